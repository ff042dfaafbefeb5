package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

const root = ".."

// loadCompose loads docker-compose.yml as docker compose would with the .env scripts/secrets.sh
// writes (the documented first run), its app lists filled in: the profiles its COMPOSE_PROFILES
// names (single), or, given, the profiles of docker compose --profile.
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	env := secretsEnv(t)
	env["IMARCHIVE_NETEASE_APPS"] = "demo=" + strings.Repeat("s", 16)
	p, err := composeWith(env, profiles...)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load as a valid compose file (profiles %v): %v", profiles, err)
	}
	return p
}

// profiles are the compose file's stacks: every rule of this file holds for each.
var profiles = [][]string{nil, {"cluster"}}

// composeWith loads the compose file with env as docker compose does: the profiles given (the
// --profile flags), else those of COMPOSE_PROFILES; optional dependencies on services of other
// profiles dropped.
func composeWith(env map[string]string, profiles ...string) (*types.Project, error) {
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithEnv(envList), cli.WithName("imarchive"), cli.WithDefaultProfiles(profiles...))
	if err != nil {
		return nil, err
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		return nil, err
	}
	return p.WithoutUnresolvedOptionalDependencies(), nil
}

// secretsEnv runs scripts/secrets.sh and reads the .env it writes.
func secretsEnv(t *testing.T) map[string]string {
	t.Helper()
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "secrets.sh")).Output()
	if err != nil {
		t.Fatalf("scripts/secrets.sh: %v", err)
	}
	file := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	env, err := readEnvFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[k] = v
	}
	return out, sc.Err()
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	want := []string{"kafka", "clickhouse", "grafana", "migrate", "serve", "consume"}
	for _, name := range want {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("service %s missing", name)
		}
	}
	pinned := regexp.MustCompile(`^[a-z0-9./_-]+:v?[0-9][0-9A-Za-z.\-]*(@sha256:[0-9a-f]{64})?$`) // v3.5.0 (Prometheus tags) is pinned too
	for name, s := range p.Services {
		if s.Build == nil && !pinned.MatchString(s.Image) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 || s.HealthCheck.Disable {
			t.Errorf("service %s has no healthcheck", name)
		}
	}
	deps := map[string]map[string]string{
		"serve":   {"kafka": types.ServiceConditionHealthy},
		"consume": {"kafka": types.ServiceConditionHealthy, "clickhouse": types.ServiceConditionHealthy, "migrate": types.ServiceConditionCompletedSuccessfully},
		"migrate": {"clickhouse": types.ServiceConditionHealthy},
		"grafana": {"clickhouse": types.ServiceConditionHealthy},
	}
	for svc, ds := range deps {
		s, _ := p.GetService(svc)
		for dep, cond := range ds {
			if got := s.DependsOn[dep].Condition; got != cond {
				t.Errorf("%s depends on %s with condition %q, want %q", svc, dep, got, cond)
			}
		}
	}
	for _, v := range []string{"kafka-data", "clickhouse-data", "grafana-data"} {
		if _, ok := p.Volumes[v]; !ok {
			t.Errorf("named volume %s missing", v)
		}
	}
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				rel, err := filepath.Rel(p.WorkingDir, v.Source)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
					t.Errorf("service %s mounts %s, which is not in the repository", s.Name, rel)
				}
			}
		}
	}
}

// secretish names the variables and keys that hold a credential.
var secretish = regexp.MustCompile(`(?i)(PASSWORD|SECRET|_APPS|_KEYS|JAAS)`)

// TestComposeSecretsNotBakedIn: every password, secret, key or app list in the compose file is taken
// from the environment, never written as a bare literal, and every variable it uses is documented in
// .env.example.
func TestComposeSecretsNotBakedIn(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	setting := regexp.MustCompile(`^\s*([A-Z_]+)\s*:\s*(.*)$`)
	for i, line := range strings.Split(string(b), "\n") {
		m := setting.FindStringSubmatch(line)
		if m == nil || !secretish.MatchString(m[1]) || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if !strings.Contains(m[2], "${") {
			t.Errorf("docker-compose.yml:%d: %s is a literal; take it from the environment or .env", i+1, m[1])
		}
	}
	env, err := readEnvFile(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range regexp.MustCompile(`\$\{([A-Z_]+)`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := env[ref[1]]; !ok {
			t.Errorf("docker-compose.yml uses ${%s}, which .env.example does not document", ref[1])
		}
	}
}

// TestComposeRefusesDefaultSecrets: no credential has a default. Every secret variable is required
// (${VAR:?…}) — the stack does not start, naming it, until it is set — or, for the app lists, empty
// by default (serve then refuses to start with no app). .env.example leaves every one of them empty,
// so copying it is not enough; scripts/secrets.sh fills them with random values.
func TestComposeRefusesDefaultSecrets(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)(:?[-?+])?([^}]*)\}`).FindAllStringSubmatch(string(b), -1) {
		name, op, def := m[1], m[2], m[3]
		if !secretish.MatchString(name) {
			continue
		}
		switch {
		case op == ":?" || op == "?":
			required[name] = true
		case (op == ":-" || op == "-") && def == "":
		default:
			t.Errorf("${%s%s%s}: a credential with a default; use ${%s:?…}", name, op, def, name)
		}
	}
	example, err := readEnvFile(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range example {
		if secretish.MatchString(name) && v != "" {
			t.Errorf(".env.example gives %s a value: whoever copies it runs with a published default", name)
		}
	}
	if len(required) < 6 {
		t.Fatalf("only %d required secrets: %v", len(required), required)
	}
	if _, err := composeWith(example); err == nil {
		t.Error("the stack loads with .env.example as it is: it would start without secrets")
	}
	full := secretsEnv(t)
	for name := range required {
		env := maps.Clone(full)
		delete(env, name)
		_, err := composeWith(env)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s the stack loads, or its error does not name it: %v", name, err)
		}
	}
	if _, err := composeWith(full); err != nil {
		t.Errorf("with the .env scripts/secrets.sh writes the stack does not load: %v", err)
	}
}

// publicPorts are the only ports published on every interface: serve's callbacks, which the
// platforms must reach and which authenticate every request per app.
var publicPorts = map[string]bool{"serve:8080": true}

// TestComposePublishesNothingOpen: every published port is bound to the host's loopback but the
// callback port; and every Kafka listener that is published, even on loopback, wants SASL with a
// password from the environment. ClickHouse, Grafana, Prometheus and the ops endpoints are not
// reachable from other machines.
func TestComposePublishesNothingOpen(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, prof := range profiles {
		p := loadCompose(t, prof...)
		for name, s := range p.Services {
			for _, port := range s.Ports {
				key := fmt.Sprintf("%s:%d", name, port.Target)
				loopback := port.HostIP == "127.0.0.1" || port.HostIP == "::1"
				if !loopback && !publicPorts[key] {
					t.Errorf("profiles %v: %s is published on every interface (host_ip %q): bind it to 127.0.0.1 or do not publish it", prof, key, port.HostIP)
				}
			}
			if strings.HasPrefix(s.Image, "apache/kafka:") {
				checkKafkaListeners(t, s, raw)
			}
		}
	}
}

// checkKafkaListeners: every listener a Kafka node publishes, even on loopback, wants SASL with a
// password from the environment.
func checkKafkaListeners(t *testing.T, k types.ServiceConfig, raw []byte) {
	t.Helper()
	envOf := func(key string) string {
		if v := k.Environment[key]; v != nil {
			return *v
		}
		return ""
	}
	protocols := map[string]string{}
	for _, pair := range strings.Split(envOf("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"), ",") {
		name, proto, _ := strings.Cut(pair, ":")
		protocols[name] = proto
	}
	listenerOn := map[string]string{} // container port → listener name
	for _, l := range strings.Split(envOf("KAFKA_LISTENERS"), ",") {
		name, addr, _ := strings.Cut(l, "://")
		_, port, _ := strings.Cut(addr, ":")
		listenerOn[port] = name
	}
	for _, port := range k.Ports {
		name := listenerOn[fmt.Sprint(port.Target)]
		if name == "" {
			t.Errorf("%s publishes %d, which no listener binds", k.Name, port.Target)
			continue
		}
		if proto := protocols[name]; !strings.HasPrefix(proto, "SASL_") {
			t.Errorf("%s's published listener %s speaks %q: want SASL_SSL or SASL_PLAINTEXT", k.Name, name, proto)
		}
		jaas := regexp.MustCompile(`(?m)^\s*KAFKA_LISTENER_NAME_` + name + `_[A-Z0-9_]+_SASL_JAAS_CONFIG:.*\$\{[A-Z_]+:\?`)
		if !jaas.Match(raw) {
			t.Errorf("%s's published listener %s has no SASL JAAS config with a required password variable", k.Name, name)
		}
	}
}

// TestComposeImagesPinnedByDigest: every image is pinned by digest, or listed in
// x-images-without-digest with the reason (no registry was reachable to verify one); the list names
// only images the stack uses.
func TestComposeImagesPinnedByDigest(t *testing.T) {
	exceptions := map[string]string{}
	digest := regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	used := map[string]bool{}
	for _, prof := range profiles {
		p := loadCompose(t, prof...)
		if x, ok := p.Extensions["x-images-without-digest"].(map[string]any); ok {
			for image, why := range x {
				exceptions[image], _ = why.(string)
			}
		}
		for name, s := range p.Services {
			if s.Build != nil {
				continue
			}
			used[s.Image] = true
			if digest.MatchString(s.Image) {
				continue
			}
			if strings.TrimSpace(exceptions[s.Image]) == "" {
				t.Errorf("service %s: image %q has no digest and is not in x-images-without-digest with a reason", name, s.Image)
			}
		}
	}
	for image := range exceptions {
		if !used[image] {
			t.Errorf("x-images-without-digest lists %s, which no service uses", image)
		}
	}
	t.Logf("%d images without a digest, each with its reason: %v", len(exceptions), exceptions)
}

var (
	buildOnce sync.Once
	buildErr  string
)

// buildStatic builds the binary exactly as the Dockerfile does (make static), once per run, and returns
// its path.
func buildStatic(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() { buildErr = makeStatic() })
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return filepath.Join(root, "bin", "imarchive")
}

func makeStatic() string {
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return err.Error()
	}
	if !regexp.MustCompile(`(?m)^RUN make static\b`).Match(df) {
		return "Dockerfile no longer builds with `make static`; this test builds what it ships that way"
	}
	out, err := exec.Command("make", "-C", root, "static", "VERSION=deploytest").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("make static: %v\n%s", err, out)
	}
	return ""
}

func TestDockerfileBinaryIsStaticAndNonRoot(t *testing.T) {
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(string(df), -1)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a multi-stage build", len(stages))
	}
	for _, s := range stages {
		if !strings.Contains(s[1], ":") || strings.HasSuffix(s[1], ":latest") {
			t.Errorf("base image %s is not pinned", s[1])
		}
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(string(df), -1)
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1][1], "root") || users[len(users)-1][1] == "0" {
		t.Errorf("the runtime stage must run as a non-root user")
	}

	bin := buildStatic(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary has an ELF interpreter: it is dynamically linked and will not run on distroless/static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v", libs)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "imarchive deploytest") {
		t.Errorf("imarchive version: %v\n%s", err, out)
	}
}

// TestComposeCommandsAndVariablesExist: every command the compose file runs is a subcommand of the
// binary, and every IMARCHIVE_* variable it sets is one the binary reads (a typo would be silently ignored).
func TestComposeCommandsAndVariablesExist(t *testing.T) {
	for _, prof := range profiles {
		checkCommandsAndVariables(t, loadCompose(t, prof...))
	}
}

func checkCommandsAndVariables(t *testing.T, p *types.Project) {
	t.Helper()
	bin := buildStatic(t)
	known := map[string]bool{}
	helps := map[string]string{}
	for _, s := range p.Services {
		if s.Build == nil {
			continue
		}
		cmd := s.Command
		if len(cmd) == 0 {
			t.Fatalf("service %s runs no command", s.Name)
		}
		help, err := exec.Command(bin, cmd[0], "--help").CombinedOutput()
		if err != nil {
			t.Errorf("service %s runs `imarchive %s`, which is not a command: %v\n%s", s.Name, cmd[0], err, help)
			continue
		}
		helps[cmd[0]] = string(help)
		for _, m := range regexp.MustCompile(`env (IMARCHIVE_[A-Z0-9_]+)`).FindAllStringSubmatch(string(help), -1) {
			known[m[1]] = true
		}
	}
	for _, s := range p.Services {
		if s.Build == nil {
			continue
		}
		for k := range s.Environment {
			if !strings.HasPrefix(k, "IMARCHIVE_") {
				continue
			}
			if !known[k] {
				t.Errorf("service %s sets %s, which no imarchive command reads", s.Name, k)
			}
		}
		// The variables that configure this service's own command must be ones it reads.
		help := helps[s.Command[0]]
		for _, k := range []string{"IMARCHIVE_LISTEN", "IMARCHIVE_OPS_LISTEN"} {
			if _, set := s.Environment[k]; set && !strings.Contains(help, "env "+k+")") {
				t.Errorf("service %s sets %s, which `imarchive %s` does not read", s.Name, k, s.Command[0])
			}
		}
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	ds, err := os.ReadFile(filepath.Join(root, "dashboards/provisioning/datasources/clickhouse.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"type: grafana-clickhouse-datasource", "host: clickhouse", "password: $CLICKHOUSE_PASSWORD"} {
		if !strings.Contains(string(ds), want) {
			t.Errorf("datasource provisioning lacks %q", want)
		}
	}
	p := loadCompose(t)
	g, _ := p.GetService("grafana")
	if _, ok := g.Environment["CLICKHOUSE_PASSWORD"]; !ok {
		t.Error("grafana needs CLICKHOUSE_PASSWORD in its environment for the provisioned datasource")
	}
	if !strings.Contains(strings.Join(mapKeys(g.Environment), ","), "GF_PLUGINS_PREINSTALL") {
		t.Error("grafana does not install the ClickHouse datasource plugin")
	}
}

func mapKeys(m types.MappingWithEquals) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// clusterXML is what the compose cluster profile's ClickHouse configuration says of the cluster.
type clusterXML struct {
	Clusters struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"remote_servers"`
	Keeper []struct {
		Host string `xml:"host"`
		Port int    `xml:"port"`
	} `xml:"zookeeper>node"`
	Macros struct {
		Shard   string `xml:"shard"`
		Replica struct {
			FromEnv string `xml:"from_env,attr"`
		} `xml:"replica"`
	} `xml:"macros"`
}

type remoteCluster struct {
	XMLName xml.Name
	Shards  []struct {
		Internal bool `xml:"internal_replication"`
		Replicas []struct {
			Host     string `xml:"host"`
			Password struct {
				FromEnv string `xml:"from_env,attr"`
			} `xml:"password"`
		} `xml:"replica"`
	} `xml:"shard"`
}

// TestComposeClusterProfile: docker compose --profile cluster up runs three Kafka nodes (each a broker
// and a KRaft controller of one quorum, topics replicated three times with two in sync), ClickHouse
// Keeper, two ClickHouse replicas of one shard of the cluster that migrate-cluster creates the schema
// on (imarchive migrate --cluster), and serve, two consume processes, access, Grafana and Prometheus —
// the single profile's Kafka, ClickHouse and migrate left out; every host the imarchive services name
// is a service of the profile; every service has a healthcheck.
func TestComposeClusterProfile(t *testing.T) {
	p := loadCompose(t, "cluster")
	for _, name := range []string{"kafka-1", "kafka-2", "kafka-3", "keeper", "clickhouse-1", "clickhouse-2", "migrate-cluster", "access", "serve", "consume", "consume-2", "grafana", "prometheus"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("cluster profile: service %s missing", name)
		}
	}
	for _, name := range []string{"kafka", "clickhouse", "migrate"} {
		if _, ok := p.Services[name]; ok {
			t.Errorf("cluster profile runs the single profile's %s too", name)
		}
	}
	single := loadCompose(t)
	for _, name := range []string{"kafka-1", "keeper", "clickhouse-1", "migrate-cluster", "consume-2"} {
		if _, ok := single.Services[name]; ok {
			t.Errorf("the single profile runs the cluster's %s", name)
		}
	}
	hosts := map[string]bool{}
	for name, s := range p.Services {
		hosts[name] = true
		if s.Hostname != "" {
			hosts[s.Hostname] = true
		}
		for _, n := range s.Networks {
			if n != nil {
				for _, a := range n.Aliases {
					hosts[a] = true
				}
			}
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("cluster profile: service %s has no healthcheck", name)
		}
	}
	env := func(s types.ServiceConfig, k string) string {
		if v := s.Environment[k]; v != nil {
			return *v
		}
		return ""
	}

	// Kafka: one quorum of three, replication 3, min.insync.replicas 2.
	voters := ""
	ids := map[string]bool{}
	for _, name := range []string{"kafka-1", "kafka-2", "kafka-3"} {
		k := p.Services[name]
		if env(k, "KAFKA_PROCESS_ROLES") != "broker,controller" {
			t.Errorf("%s: roles %q", name, env(k, "KAFKA_PROCESS_ROLES"))
		}
		if voters == "" {
			voters = env(k, "KAFKA_CONTROLLER_QUORUM_VOTERS")
		} else if v := env(k, "KAFKA_CONTROLLER_QUORUM_VOTERS"); v != voters {
			t.Errorf("%s: quorum voters %q, %q elsewhere", name, v, voters)
		}
		id := env(k, "KAFKA_NODE_ID")
		ids[id] = true
		if !strings.Contains(voters, id+"@"+k.Hostname+":9093") {
			t.Errorf("%s (node %s) is not a voter of %q", name, id, voters)
		}
		if !strings.Contains(env(k, "KAFKA_ADVERTISED_LISTENERS"), "//"+k.Hostname+":9092") {
			t.Errorf("%s advertises %q", name, env(k, "KAFKA_ADVERTISED_LISTENERS"))
		}
		for key, want := range map[string]string{"KAFKA_DEFAULT_REPLICATION_FACTOR": "3", "KAFKA_MIN_INSYNC_REPLICAS": "2", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "3"} {
			if got := env(k, key); got != want {
				t.Errorf("%s: %s = %q, want %s", name, key, got, want)
			}
		}
	}
	if len(ids) != 3 {
		t.Errorf("Kafka node ids %v: want three distinct", ids)
	}

	// Every configuration file is well-formed XML (ClickHouse refuses to start on one that is not).
	files, _ := filepath.Glob(filepath.Join(root, "deploy", "clickhouse", "*.xml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for d := xml.NewDecoder(bytes.NewReader(b)); ; {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
				break
			}
		}
	}
	if len(files) < 3 {
		t.Errorf("deploy/clickhouse holds %d configuration files, want cluster.xml, cluster-users.xml, keeper.xml", len(files))
	}

	// ClickHouse: the replicas' configuration names them, and Keeper.
	b, err := os.ReadFile(filepath.Join(root, "deploy", "clickhouse", "cluster.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var cx clusterXML
	if err := xml.Unmarshal(b, &cx); err != nil {
		t.Fatalf("deploy/clickhouse/cluster.xml: %v", err)
	}
	var rc remoteCluster
	if err := xml.Unmarshal(append(append([]byte("<r>"), cx.Clusters.Inner...), "</r>"...), &struct {
		C *remoteCluster `xml:",any"`
	}{&rc}); err != nil {
		t.Fatal(err)
	}
	cluster := rc.XMLName.Local
	var replicas []string
	for _, sh := range rc.Shards {
		if !sh.Internal {
			t.Error("cluster.xml: a shard without internal_replication: Distributed inserts would write every replica themselves")
		}
		for _, r := range sh.Replicas {
			replicas = append(replicas, r.Host)
			if r.Password.FromEnv == "" {
				t.Errorf("cluster.xml: replica %s has no password from the environment", r.Host)
			}
		}
	}
	if len(rc.Shards) != 1 || len(replicas) != 2 {
		t.Errorf("cluster %q: %d shards, replicas %v: want one shard of two", cluster, len(rc.Shards), replicas)
	}
	names := map[string]bool{}
	for _, r := range replicas {
		s, ok := p.Services[r]
		if !ok {
			t.Errorf("cluster.xml names replica %s, which is no service", r)
			continue
		}
		names[env(s, cx.Macros.Replica.FromEnv)] = true
		mounted := false
		for _, v := range s.Volumes {
			mounted = mounted || (strings.HasSuffix(v.Source, "deploy/clickhouse/cluster.xml") && strings.HasPrefix(v.Target, "/etc/clickhouse-server/config.d/"))
		}
		if !mounted {
			t.Errorf("%s does not mount deploy/clickhouse/cluster.xml into config.d", r)
		}
		if env(s, "CLICKHOUSE_CLUSTER_PASSWORD") == "" {
			t.Errorf("%s has no CLICKHOUSE_CLUSTER_PASSWORD", r)
		}
	}
	if cx.Macros.Replica.FromEnv == "" || len(names) != len(replicas) || names[""] {
		t.Errorf("the replicas' {replica} macros (%s) are not distinct: %v", cx.Macros.Replica.FromEnv, names)
	}
	if len(cx.Keeper) != 1 || !hosts[cx.Keeper[0].Host] {
		t.Errorf("cluster.xml's Keeper %v is not a service of the profile", cx.Keeper)
	}
	kb, err := os.ReadFile(filepath.Join(root, "deploy", "clickhouse", "keeper.xml"))
	if err != nil || len(cx.Keeper) == 0 || !strings.Contains(string(kb), fmt.Sprintf("<tcp_port>%d</tcp_port>", cx.Keeper[0].Port)) {
		t.Errorf("deploy/clickhouse/keeper.xml does not listen on the port cluster.xml names (%v, %v)", cx.Keeper, err)
	}

	// The schema is made for that cluster, and every host an imarchive service names is here.
	m := p.Services["migrate-cluster"]
	if len(m.Command) == 0 || m.Command[0] != "migrate" || env(m, "IMARCHIVE_CLICKHOUSE_CLUSTER") != cluster {
		t.Errorf("migrate-cluster runs %v with IMARCHIVE_CLICKHOUSE_CLUSTER=%q: want migrate on cluster %q", m.Command, env(m, "IMARCHIVE_CLICKHOUSE_CLUSTER"), cluster)
	}
	hostRe := regexp.MustCompile(`(?:^|,|@|//)([a-z0-9-]+):(\d+)`)
	for name, s := range p.Services {
		if s.Build == nil {
			continue
		}
		for _, k := range []string{"IMARCHIVE_KAFKA_BROKERS", "IMARCHIVE_CLICKHOUSE_DSN"} {
			for _, h := range hostRe.FindAllStringSubmatch(env(s, k), -1) {
				if !hosts[h[1]] {
					t.Errorf("%s: %s names %s, which is no service or alias of the cluster profile", name, k, h[1])
				}
			}
		}
	}
	for svc, deps := range map[string][]string{"serve": {"kafka-1"}, "consume": {"kafka-1", "clickhouse-1", "migrate-cluster", "access"}, "consume-2": {"kafka-1", "clickhouse-1", "migrate-cluster"}, "access": {"migrate-cluster"}} {
		for _, d := range deps {
			if _, ok := p.Services[svc].DependsOn[d]; !ok {
				t.Errorf("cluster profile: %s does not wait for %s", svc, d)
			}
		}
	}
	if a, b := env(p.Services["consume"], "IMARCHIVE_GROUP_INSTANCE_ID"), env(p.Services["consume-2"], "IMARCHIVE_GROUP_INSTANCE_ID"); a == b {
		t.Errorf("consume and consume-2 share the group instance id %q: Kafka would fence one", a)
	}
}
