package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

//go:generate go run ./internal/generate

// Dashboards are the generated dashboards by name: json/NAME.json. Ingest health is Grafana's home
// dashboard (docker-compose.yml).
var Dashboards = map[string]func() (dashboard.Dashboard, error){
	"ingest-health": ingestHealth,
	"messaging":     messaging,
	"presence":      presence,
	"community":     community,
	"compliance":    compliance,
}

// Files returns every generated file by its path relative to this directory: json/NAME.json for each
// dashboard, and the provisioning files.
func Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	var errs []error
	for name, build := range Dashboards {
		d, err := build()
		if err != nil {
			errs = append(errs, fmt.Errorf("dashboard %s: %w", name, err))
			continue
		}
		b, err := Marshal(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("dashboard %s: %w", name, err))
			continue
		}
		out["json/"+name+".json"] = b
	}
	for path, text := range provisioningFiles {
		out[path] = []byte(text)
	}
	return out, errors.Join(errs...)
}

// Marshal writes a dashboard as the committed files hold it: indented by two spaces, without HTML
// escaping (the SQL's < and > stay readable), ending in a newline.
func Marshal(d dashboard.Dashboard) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode dashboard: %w", err)
	}
	return buf.Bytes(), nil
}

// Write writes Files under dir (the dashboards directory) and removes the dashboards of json/ that
// are no longer generated.
func Write(dir string) error {
	files, err := Files()
	if err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "json", "*.json"))
	if err != nil {
		return fmt.Errorf("list old dashboards: %w", err)
	}
	for _, f := range old {
		if _, ok := files["json/"+filepath.Base(f)]; !ok {
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("remove stale dashboard: %w", err)
			}
		}
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// Names lists the dashboards' names, sorted.
func Names() []string {
	return slices.Sorted(maps.Keys(Dashboards))
}
