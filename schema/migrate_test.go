package schema

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/imarchive/imarchive/internal/testenv"
)

func TestSplit(t *testing.T) {
	got := Split("-- a comment\nCREATE TABLE a\n(\n  x String COMMENT 'a;b'\n);\n\n-- another\nCREATE VIEW b AS SELECT 1;\n")
	want := []string{"CREATE TABLE a\n(\n  x String COMMENT 'a;b'\n)", "CREATE VIEW b AS SELECT 1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("migration versions not increasing: %d after %d", ms[i].Version, ms[i-1].Version)
		}
	}
}

func TestLoadRejectsBadNames(t *testing.T) {
	for _, name := range []string{"1_x.sql", "0001-x.sql", "0001_X.sql"} {
		if _, err := load(fstest.MapFS{name: {Data: []byte("SELECT 1;")}}); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := load(fstest.MapFS{"0001_a.sql": {Data: []byte("SELECT 1;")}, "0001_b.sql": {Data: []byte("SELECT 1;")}}); err == nil {
		t.Error("duplicate version: want an error")
	}
}

// TestMigrateIdempotent applies the embedded schema to a fresh database twice on the real engine:
// the second run applies nothing, the version is recorded, and a changed file is refused.
func TestMigrateIdempotent(t *testing.T) {
	_, conn := testenv.Database(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	first, err := Migrate(ctx, conn, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Applied) != len(ms) || first.Version != ms[len(ms)-1].Version {
		t.Fatalf("first run applied %d, version %d", len(first.Applied), first.Version)
	}
	second, err := Migrate(ctx, conn, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Applied) != 0 || second.Version != first.Version {
		t.Fatalf("second run applied %d, version %d", len(second.Applied), second.Version)
	}
	applied, err := Applied(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(ms) {
		t.Fatalf("schema_migrations has %d versions, want %d", len(applied), len(ms))
	}
	// Every table the migrations create exists and has a comment on every column.
	var uncommented uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND comment = ''").Scan(&uncommented); err != nil {
		t.Fatal(err)
	}
	if uncommented != 0 {
		t.Errorf("%d columns have no comment: analysts read them without a manual", uncommented)
	}

	changed := append([]Migration(nil), ms...)
	changed[0].Checksum = "edited"
	if _, err := apply(ctx, conn, changed, log); !errors.Is(err, ErrChanged) {
		t.Fatalf("changed migration: want ErrChanged, got %v", err)
	}
}
