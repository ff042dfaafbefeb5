package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/schema/access"
)

func accessCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("access", "create the least-privilege ClickHouse roles and users (writer, analyst, auditor): imarchive access sql|apply",
		`  imarchive access sql     print the statements (password hashes masked)
  imarchive access apply   run them with the DSN's user, who must have access management
Run after 'imarchive migrate', with an administrator's DSN; idempotent. The roles (schema/access/roles.sql):
  writer   consume, the connectors, the audit chain, legal holds: read and insert, no DDL or DELETE
  analyst  analysts and Grafana: every table and view, but of the raw archive only the columns that say
           what arrived when (no body, headers, path or client address)
  auditor  the analyst's rights and the raw payloads
A user is created for each role whose password is set; apply again with a new password to change it.
Then give consume the writer's DSN, Grafana the analyst's, auditors the auditor's. Role names are
global to the server: two deployments on one server need different --role-prefix values.`)
	var (
		lf  cli.LogFlags
		dsn string
		cfg = access.Config{RolePrefix: access.DefaultRolePrefix}
		us  = map[string]*access.User{
			access.Writer:  {Role: access.Writer},
			access.Analyst: {Role: access.Analyst},
			access.Auditor: {Role: access.Auditor},
		}
	)
	c.Group(
		cli.Subcommand{Name: "sql", Summary: "print the statements (password hashes masked)"},
		cli.Subcommand{Name: "apply", Summary: "run them with the DSN's user (an administrator); idempotent"},
	)
	lf.Register(c)
	c.Str(&dsn, "clickhouse-dsn", "IMARCHIVE_CLICKHOUSE_DSN", "", "ClickHouse DSN of an administrator (access management), naming the archive's database (required)")
	c.Str(&cfg.RolePrefix, "role-prefix", "IMARCHIVE_ACCESS_ROLE_PREFIX", cfg.RolePrefix, "prefix of the role names (<prefix>writer, <prefix>analyst, <prefix>auditor)")
	for _, role := range []string{access.Writer, access.Analyst, access.Auditor} {
		u := us[role]
		c.Str(&u.Name, role+"-user", "IMARCHIVE_ACCESS_"+upper(role)+"_USER", "imarchive_"+role, "name of the "+role+" user")
		c.Str(&u.Password, role+"-password", "IMARCHIVE_ACCESS_"+upper(role)+"_PASSWORD", "", "password of the "+role+" user (unset: the user is not created)")
	}
	c.Run = func(args []string) error {
		sub := ""
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			sub, args = args[0], args[1:]
		}
		if err := c.Parse(args); err != nil {
			return err
		}
		if (sub != "sql" && sub != "apply") || len(c.FS.Args()) > 0 {
			return cli.Usagef("usage: imarchive access sql|apply [flags]")
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return err
		}
		opts, err := chconn.Options(dsn)
		if err != nil {
			return err
		}
		cfg.Database = opts.Auth.Database
		if cfg.Database == "" {
			cfg.Database = "default"
		}
		for _, role := range []string{access.Writer, access.Analyst, access.Auditor} {
			cfg.Users = append(cfg.Users, *us[role])
		}
		if sub == "sql" {
			stmts, err := cfg.Statements()
			if err != nil {
				return err
			}
			for _, s := range stmts {
				fmt.Fprintf(stdout, "%s;\n", s.Shown)
			}
			return nil
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		conn, err := chconn.OpenOptions(ctx, opts)
		if err != nil {
			return err
		}
		defer conn.Close()
		if err := access.Apply(ctx, conn, cfg, log); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "roles %swriter, %sanalyst, %sauditor on database %s\n", cfg.RolePrefix, cfg.RolePrefix, cfg.RolePrefix, cfg.Database)
		for _, u := range cfg.Users {
			if u.Password != "" {
				fmt.Fprintf(stdout, "user %s: %s%s\n", u.Name, cfg.RolePrefix, u.Role)
			}
		}
		return nil
	}
	return c
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
