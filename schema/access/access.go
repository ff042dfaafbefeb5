// Package access holds the least-privilege ClickHouse roles of an imarchive database (roles.sql,
// embedded) and creates them, with their users, through an administrator's connection.
//
// Three roles: a writer for consume and the other writing jobs, an analyst (Grafana too) that reads
// everything but the raw payloads, and an auditor that reads those as well. roles.sql says what each
// may do. A user is created for a role only when its password is given; passwords are sent as salted
// SHA-256 hashes (IDENTIFIED WITH sha256_hash), never in clear text, and re-applying sets the
// password again, so rotating one is running apply with the new value.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/schema"
)

//go:embed roles.sql
var rolesSQL string

// Roles, the suffixes of the role names.
const (
	Writer  = "writer"
	Analyst = "analyst"
	Auditor = "auditor"
)

// DefaultRolePrefix makes the roles imarchive_role_writer, imarchive_role_analyst and
// imarchive_role_auditor (users and roles must not share a name).
const DefaultRolePrefix = "imarchive_role_"

// User is one ClickHouse user to create with one of the roles.
type User struct {
	Name     string
	Role     string // Writer, Analyst or Auditor
	Password string // empty: the user is not created
}

// Config says which database, which role names and which users.
type Config struct {
	Database   string // the database migrate created (the DSN's)
	RolePrefix string // role names are RolePrefix + writer|analyst|auditor; default DefaultRolePrefix
	Users      []User
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Database == "" {
		errs = append(errs, errors.New("access: no database (the DSN names none)"))
	} else if !identifier.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("access: database %q: letters, digits, '_', '.', '-' only", c.Database))
	}
	if !identifier.MatchString(c.RolePrefix + "x") {
		errs = append(errs, fmt.Errorf("access: role prefix %q: letters, digits, '_', '.', '-' only", c.RolePrefix))
	}
	seen := map[string]bool{}
	for _, u := range c.Users {
		switch {
		case !identifier.MatchString(u.Name):
			errs = append(errs, fmt.Errorf("access: user name %q: letters, digits, '_', '.', '-' only", u.Name))
		case u.Role != Writer && u.Role != Analyst && u.Role != Auditor:
			errs = append(errs, fmt.Errorf("access: user %s: role %q, want writer, analyst or auditor", u.Name, u.Role))
		case seen[u.Name]:
			errs = append(errs, fmt.Errorf("access: user %s listed twice", u.Name))
		case u.Name == c.Role(Writer) || u.Name == c.Role(Analyst) || u.Name == c.Role(Auditor):
			errs = append(errs, fmt.Errorf("access: user %s has the name of a role", u.Name))
		}
		seen[u.Name] = true
	}
	return errors.Join(errs...)
}

// Role returns the full name of a role.
func (c Config) Role(role string) string { return c.RolePrefix + role }

// Statement is one statement to run; Shown is the same with any password hash masked, for printing.
type Statement struct {
	SQL   string
	Shown string
}

// Statements renders roles.sql for the database, then the users (those with a password).
func (c Config) Statements() ([]Statement, error) {
	if c.RolePrefix == "" {
		c.RolePrefix = DefaultRolePrefix
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := strings.NewReplacer(
		"{db}", quote(c.Database),
		"{writer}", quote(c.Role(Writer)),
		"{analyst}", quote(c.Role(Analyst)),
		"{auditor}", quote(c.Role(Auditor)),
	)
	var out []Statement
	for _, s := range schema.Split(rolesSQL) {
		s = r.Replace(s)
		out = append(out, Statement{SQL: s, Shown: s})
	}
	for _, u := range c.Users {
		if u.Password == "" {
			continue
		}
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("access: salt: %w", err)
		}
		saltHex := hex.EncodeToString(salt)
		sum := sha256.Sum256([]byte(u.Password + saltHex))
		ident := fmt.Sprintf("IDENTIFIED WITH sha256_hash BY '%s' SALT '%s'", hex.EncodeToString(sum[:]), saltHex)
		masked := "IDENTIFIED WITH sha256_hash BY '***' SALT '***'"
		name, role := quote(u.Name), quote(c.Role(u.Role))
		// Analysts and auditors read only: readonly = 2 still lets clients set query settings.
		settings := ""
		if u.Role != Writer {
			settings = " SETTINGS readonly = 2"
		}
		for _, tmpl := range []string{
			"CREATE USER IF NOT EXISTS %s %s DEFAULT ROLE NONE" + settings,
			"ALTER USER %s %s", // a changed password takes effect on a re-apply
		} {
			out = append(out, Statement{SQL: fmt.Sprintf(tmpl, name, ident), Shown: fmt.Sprintf(tmpl, name, masked)})
		}
		for _, s := range []string{
			fmt.Sprintf("GRANT %s TO %s", role, name),
			fmt.Sprintf("ALTER USER %s DEFAULT ROLE %s", name, role),
		} {
			out = append(out, Statement{SQL: s, Shown: s})
		}
	}
	return out, nil
}

// Apply runs the statements through conn, which must be an administrator's. It stops at the first
// error, naming the statement (with the password masked).
func Apply(ctx context.Context, conn driver.Conn, c Config, log *slog.Logger) error {
	stmts, err := c.Statements()
	if err != nil {
		return err
	}
	for i, s := range stmts {
		if err := conn.Exec(ctx, s.SQL); err != nil {
			return fmt.Errorf("access statement %d (%s): %w", i+1, s.Shown, err)
		}
	}
	users := []string{}
	for _, u := range c.Users {
		if u.Password != "" {
			users = append(users, u.Name+"="+c.Role(u.Role))
		}
	}
	sort.Strings(users)
	log.Info("access applied", "database", c.Database, "statements", len(stmts), "users", users)
	return nil
}

// quote is a ClickHouse identifier in backquotes.
func quote(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(s) + "`"
}
