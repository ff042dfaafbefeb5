package ops_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/internal/ops"
)

// TestReadyz: nil is ready (200), Degraded is ready with the reason (200, header and body), any other
// error is not ready (503); /healthz and /metrics answer.
func TestReadyz(t *testing.T) {
	for _, c := range []struct {
		name     string
		err      error
		status   int
		body     string
		degraded string
	}{
		{"ready", nil, http.StatusOK, "ready\n", ""},
		{"degraded", ops.Degraded{Why: "spooling"}, http.StatusOK, "degraded: spooling", "spooling"},
		{"wrapped degraded", errors.Join(ops.Degraded{Why: "stalled"}), http.StatusOK, "degraded: stalled", "stalled"},
		{"down", errors.New("kafka unreachable"), http.StatusServiceUnavailable, "not ready: kafka unreachable", ""},
	} {
		mux := ops.Mux(ops.NewRegistry(), func(context.Context) error { return c.err })
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) || rec.Header().Get("X-Imarchive-Degraded") != c.degraded {
			t.Errorf("%s: %d %q header %q; want %d %q header %q", c.name, rec.Code, rec.Body.String(),
				rec.Header().Get("X-Imarchive-Degraded"), c.status, c.body, c.degraded)
		}
	}
	mux := ops.Mux(ops.NewRegistry(), func(context.Context) error { return nil })
	for _, path := range []string{"/healthz", "/metrics"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
}
