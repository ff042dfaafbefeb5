package dashboards_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/pipeline"
)

// recorder is a Registerer that keeps what serve's and consume's parts register, so their metrics'
// names and labels can be read even before any is observed.
type recorder struct{ cs []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error   { r.cs = append(r.cs, c); return nil }
func (r *recorder) MustRegister(cs ...prometheus.Collector) { r.cs = append(r.cs, cs...) }
func (r *recorder) Unregister(prometheus.Collector) bool    { return true }

// announced are serve's spool metrics (issue 15), whose names the spool's author published before the
// spool reached this branch. Until the constructors below register them, a panel may query them with
// the scrape's labels only (job, instance); once registered they are checked like every other.
var announced = []string{
	"imarchive_ingest_spool_records", "imarchive_ingest_spool_bytes", "imarchive_ingest_spool_oldest_record_age_seconds",
	"imarchive_ingest_spool_forwarded_records_total", "imarchive_ingest_spool_full",
}

var descRe = regexp.MustCompile(`^Desc\{fqName: "([^"]+)", help: ".*", constLabels: \{([^}]*)\}, variableLabels: \{([^}]*)\}\}$`)

// servedMetrics builds the parts serve and consume run (the receiver, the events and raw consumers)
// on a recorder and returns every metric name with its labels.
func servedMetrics(t *testing.T) map[string]map[string]bool {
	t.Helper()
	rec := &recorder{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc := kafka.DefaultConfig()
	tc.Brokers = []string{"127.0.0.1:1"} // never dialled: the clients are only built
	icfg := ingest.DefaultConfig()
	icfg.NeteaseApps = map[string]string{"app": "secret"}
	if _, err := ingest.New(icfg, tc, nil, log, rec); err != nil {
		t.Fatal(err)
	}
	ev, err := pipeline.NewEventConsumer(pipeline.DefaultConfig(), tc, nil, log, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	raw, err := pipeline.NewRawConsumer(pipeline.DefaultConfig(), tc, nil, log, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	pipeline.NewPartsReporter(nil, log, rec)

	out := map[string]map[string]bool{}
	for _, c := range rec.cs {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := descRe.FindStringSubmatch(d.String())
			if m == nil {
				t.Fatalf("cannot read %s", d)
			}
			labels := out[m[1]]
			if labels == nil {
				labels = map[string]bool{"job": true, "instance": true} // added by the scrape
				out[m[1]] = labels
			}
			for _, kv := range strings.Split(m[2], ",") {
				if k, _, ok := strings.Cut(kv, "="); ok {
					labels[k] = true
				}
			}
			for _, l := range strings.Split(m[3], ",") {
				if l != "" {
					labels[strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")")] = true
				}
			}
		}
	}
	for _, name := range announced {
		if out[name] == nil {
			t.Logf("%s is not registered by serve or consume here: a panel may use only the scrape's labels on it", name)
			out[name] = map[string]bool{"job": true, "instance": true}
		}
	}
	return out
}

var (
	metricRe  = regexp.MustCompile(`\bimarchive_[a-z0-9_]+\b`)
	matcherRe = regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)\s*"`)
	byRe      = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	legendRe  = regexp.MustCompile(`\{\{\s*([a-z_]+)\s*\}\}`)
)

// TestPrometheusQueriesResolve: every metric an Ingest health panel queries is one serve or consume
// registers, every label it filters, groups or names in a legend is one that metric has (le on
// histogram buckets), and a legend names only labels the aggregation keeps.
func TestPrometheusQueriesResolve(t *testing.T) {
	metrics := servedMetrics(t)
	if len(metrics) < 10 {
		t.Fatalf("only %d metrics registered: %v", len(metrics), metrics)
	}
	n := 0
	for _, d := range loadDashboards(t) {
		for _, p := range allPanels(d.Panels) {
			for _, tg := range p.Targets {
				if tg.Datasource == nil || tg.Datasource.UID != prometheusUID {
					continue
				}
				n++
				where := d.file + " / " + p.Title + " / " + tg.RefID
				labels := map[string]bool{}
				first := true
				names := metricRe.FindAllString(tg.Expr, -1)
				if len(names) == 0 {
					t.Errorf("%s: %s queries no imarchive metric", where, tg.Expr)
				}
				for _, name := range names {
					// A histogram's series: NAME_bucket (with le), NAME_count and NAME_sum.
					base, le := name, false
					for _, suffix := range []string{"_bucket", "_count", "_sum"} {
						if b, ok := strings.CutSuffix(name, suffix); ok && metrics[name] == nil && metrics[b] != nil {
							base, le = b, suffix == "_bucket"
						}
					}
					have, ok := metrics[base]
					if !ok {
						t.Errorf("%s: metric %s is not registered by serve or consume", where, name)
						continue
					}
					// A label must exist on every metric of the expression.
					next := map[string]bool{}
					for l := range have {
						if first || labels[l] {
							next[l] = true
						}
					}
					if le {
						next["le"] = true
					}
					labels, first = next, false
				}
				var used []string
				for _, m := range matcherRe.FindAllStringSubmatch(tg.Expr, -1) {
					used = append(used, m[1])
				}
				kept := map[string]bool{}
				bys := byRe.FindAllStringSubmatch(tg.Expr, -1)
				for _, m := range bys {
					for _, l := range strings.Split(m[1], ",") {
						l = strings.TrimSpace(l)
						used = append(used, l)
						kept[l] = true
					}
				}
				for _, l := range used {
					if !labels[l] {
						t.Errorf("%s: label %s is not a label of %v", where, l, names)
					}
				}
				for _, m := range legendRe.FindAllStringSubmatch(tg.LegendFormat, -1) {
					if !labels[m[1]] || (len(bys) > 0 && !kept[m[1]]) {
						t.Errorf("%s: legend names %s, which the result does not carry", where, m[1])
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no Prometheus panel found")
	}
}

// TestProvisioning: the files Grafana and Prometheus read in the compose stack point where the
// services are: the dashboards provider at the mounted json/, the home dashboard at ingest-health, the
// ClickHouse datasource at the clickhouse service, Prometheus at serve's and consume's metrics.
func TestProvisioning(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// Every variable .env.example leaves empty is a secret the stack requires: give each one a value.
	var env []string
	for _, line := range strings.Split(read("../.env.example"), "\n") {
		if name, value, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(name, "#") {
			if value == "" {
				value = "x"
			}
			env = append(env, name+"="+value)
		}
	}
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"}, cli.WithWorkingDirectory(".."),
		cli.WithEnv(env), cli.WithName("imarchive"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mounts := func(service string) map[string]string {
		s, err := p.GetService(service)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, v := range s.Volumes {
			rel, _ := filepath.Rel(root, v.Source)
			out[v.Target] = rel
		}
		return out
	}
	g := mounts("grafana")
	if g["/etc/grafana/provisioning"] != "dashboards/provisioning" || g["/var/lib/grafana/dashboards"] != "dashboards/json" {
		t.Errorf("grafana mounts %v: want dashboards/provisioning at /etc/grafana/provisioning, dashboards/json at /var/lib/grafana/dashboards", g)
	}
	gs, _ := p.GetService("grafana")
	home := gs.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
	if home == nil || *home != "/var/lib/grafana/dashboards/ingest-health.json" {
		t.Errorf("home dashboard %v, want /var/lib/grafana/dashboards/ingest-health.json", home)
	}
	if _, err := os.Stat("json/ingest-health.json"); err != nil {
		t.Error(err)
	}
	if !strings.Contains(read("provisioning/dashboards/imarchive.yaml"), "path: /var/lib/grafana/dashboards") {
		t.Error("the dashboards provider does not read /var/lib/grafana/dashboards")
	}
	if ds := read("provisioning/datasources/clickhouse.yaml"); !strings.Contains(ds, "host: clickhouse") || !strings.Contains(ds, "uid: "+clickhouseUID) {
		t.Error("the ClickHouse datasource does not point at the clickhouse service with uid " + clickhouseUID)
	}
	if ds := read("provisioning/datasources/prometheus.yaml"); !strings.Contains(ds, "url: http://prometheus:9090") || !strings.Contains(ds, "uid: "+prometheusUID) {
		t.Error("the Prometheus datasource does not point at the prometheus service with uid " + prometheusUID)
	}
	if m := mounts("prometheus"); m["/etc/prometheus/prometheus.yml"] != "dashboards/prometheus/prometheus.yml" {
		t.Errorf("prometheus mounts %v: want dashboards/prometheus/prometheus.yml", m)
	}
	scrape := read("prometheus/prometheus.yml")
	for svc, env := range map[string]string{"serve": "IMARCHIVE_SERVE_OPS_LISTEN", "consume": "IMARCHIVE_OPS_LISTEN"} {
		s, err := p.GetService(svc)
		if err != nil {
			t.Fatal(err)
		}
		listen := s.Environment[env]
		if listen == nil {
			t.Errorf("%s sets no %s", svc, env)
			continue
		}
		target := svc + *listen // ":8080" → serve:8080
		if !strings.Contains(scrape, `"`+target+`"`) {
			t.Errorf("prometheus.yml does not scrape %s (where %s listens)", target, svc)
		}
	}
}
