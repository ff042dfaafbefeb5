package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FindSourceDir returns dir when given, else the nearest directory from the working directory upwards
// that holds scripts/kafka.sh and go.mod; "" when there is none.
func FindSourceDir(dir string) string {
	if dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if isFile(filepath.Join(d, "scripts", "kafka.sh")) && isFile(filepath.Join(d, "go.mod")) {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// service is one of the source tree's service scripts (scripts/kafka.sh, scripts/chdb.sh) on a port.
type service struct {
	name   string // "kafka", "chdb"
	script string
	env    []string
	port   int
}

func (b *run) service(name string, port int) (*service, error) {
	if b.src == "" {
		return nil, fmt.Errorf("no %s given and no source tree found (scripts/%s.sh): run from the imarchive source tree or name the service", name, name)
	}
	dir := b.cfg.ServiceDir
	if dir == "" {
		dir = filepath.Join(b.src, ".testenv", "bench")
	}
	portVar := map[string]string{"kafka": "IMARCHIVE_KAFKA_PORT", "chdb": "IMARCHIVE_CHDB_PORT"}[name]
	return &service{
		name:   name,
		script: filepath.Join(b.src, "scripts", name+".sh"),
		env:    []string{"IMARCHIVE_TEST_DIR=" + dir, portVar + "=" + strconv.Itoa(port)},
		port:   port,
	}, nil
}

func (s *service) do(ctx context.Context, verb string) error {
	cmd := exec.CommandContext(ctx, "bash", s.script, verb)
	cmd.Env = append(os.Environ(), s.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/%s.sh %s: %w: %s", s.name, verb, err, tail(out.String(), 2000))
	}
	return nil
}

// answers reports whether something listens on the service's port.
func (s *service) answers() bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// ensure starts the service unless it already answers; stop is non-nil when it was started here.
func (s *service) ensure(ctx context.Context) (stop func() error, err error) {
	if s.answers() {
		return nil, nil
	}
	if err := s.do(ctx, "start"); err != nil {
		return nil, err
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return s.do(ctx, "stop")
	}, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// LoadAvg is /proc/loadavg's first three fields, or "unknown".
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// errJoin joins the errors of a cleanup with the run's own.
func errJoin(err error, more ...error) error { return errors.Join(append([]error{err}, more...)...) }
