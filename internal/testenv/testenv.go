// Package testenv gives integration tests the real services they need: a Kafka broker and a ClickHouse
// engine, named by environment variables. scripts/test.sh starts both (a real Apache Kafka broker from
// its Maven jars and ClickHouse's engine through chDB) and sets the variables; a user with Docker can
// point them at the compose stack instead.
//
//	IMARCHIVE_TEST_KAFKA_BROKERS   host:port[,host:port]
//	IMARCHIVE_TEST_CLICKHOUSE_DSN  a clickhouse-go DSN (http://127.0.0.1:18123/default, clickhouse://…)
//	IMARCHIVE_TEST_REQUIRE=1       a missing service fails the test instead of skipping it (CI sets it)
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/chconn"
)

func need(t testing.TB, env string) string {
	t.Helper()
	return Need(t, env, "integration test skipped (scripts/test.sh starts the services and sets it)")
}

// Need returns the value of the environment variable env, which a test needs; without it the test is
// skipped, saying why (skipped), or fails under IMARCHIVE_TEST_REQUIRE=1 (scripts/test.sh, CI), where
// nothing may be skipped silently.
func Need(t testing.TB, env, skipped string) string {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	if os.Getenv("IMARCHIVE_TEST_REQUIRE") == "1" {
		t.Fatalf("%s is not set, and IMARCHIVE_TEST_REQUIRE=1: run the tests with scripts/test.sh", env)
	}
	t.Skipf("%s not set: %s", env, skipped)
	return ""
}

// KafkaBrokers returns the test broker addresses, or skips.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	return strings.Split(need(t, "IMARCHIVE_TEST_KAFKA_BROKERS"), ",")
}

// ClickHouseDSN returns the test ClickHouse DSN, or skips.
func ClickHouseDSN(t testing.TB) string {
	t.Helper()
	return need(t, "IMARCHIVE_TEST_CLICKHOUSE_DSN")
}

// Unique returns a name unique to this test run, for topics, groups and databases.
func Unique(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	return "t_" + name + "_" + hex.EncodeToString(b)
}

// Database creates a fresh ClickHouse database for the test, dropped at cleanup, and returns a DSN
// naming it and an open connection to it.
func Database(t testing.TB) (string, driver.Conn) {
	t.Helper()
	base := ClickHouseDSN(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse IMARCHIVE_TEST_CLICKHOUSE_DSN: %v", err)
	}
	db := Unique(t)
	u.Path = "/" + db
	dsn := u.String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts, err := chconn.Options(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := chconn.EnsureDatabase(ctx, opts); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	conn, err := chconn.OpenOptions(ctx, opts)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if os.Getenv("IMARCHIVE_TEST_KEEP") == "" {
			_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
		}
		conn.Close()
	})
	return dsn, conn
}
