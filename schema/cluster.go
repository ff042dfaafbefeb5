package schema

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The schema on a ClickHouse cluster (imarchive migrate --cluster NAME). The migration files are
// written for one server; Cluster renders each statement for a cluster of shards and replicas, from
// what the statement is, so a new migration renders without changes here (or fails with
// ErrClusterUnsupported, naming the statement, never silently):
//
//   - A table of the MergeTree family (a storage table) becomes two: NAME_local on every replica, of
//     the Replicated engine of its family (ReplicatedReplacingMergeTree, ReplicatedAggregatingMergeTree,
//     …) at '/clickhouse/tables/{uuid}/{shard}' with replica '{replica}', and NAME, a Distributed
//     table over NAME_local of every shard, sharded by a hash of the table's sorting key: every row a
//     ReplacingMergeTree folds (same sorting key) lands on one shard, so FINAL still sees each event
//     once. Views, queries/ and the dashboards read NAME as before; consume inserts into NAME.
//   - non_replicated_deduplication_window becomes replicated_deduplication_window (the same number of
//     blocks) with replicated_deduplication_window_seconds = 604800: a batch re-sent with its token
//     within a week is dropped, as on one server.
//   - Views and databases are created ON CLUSTER, unchanged: they read the Distributed tables.
//   - A materialized view is created ON CLUSTER writing to the local table of its target and reading
//     the local tables (FROM, JOIN): it sees the rows inserted on its own replica, and its target
//     replicates them.
//   - ALTER, DELETE, TRUNCATE and OPTIMIZE of a storage table run ON CLUSTER on NAME_local; column
//     changes (ADD, DROP, MODIFY, RENAME, COMMENT COLUMN) are also made to the Distributed NAME, which
//     must have the same columns. RENAME and EXCHANGE of a storage table move the local tables and
//     create the Distributed tables again over them. DROP drops both.
//   - INSERT … SELECT (a copy in a migration) is run once, through the Distributed tables, and so is
//     a SELECT (a migration's check that a copy is whole, failing it with throwIf).
//
// Every statement is then run with ClusterDDLSettings: ON CLUSTER statements return once every host
// of the cluster has run them (distributed_ddl_task_timeout, distributed_ddl_output_mode = throw),
// ALTERs and mutations once every replica has (alter_sync = 2, mutations_sync = 2), and an INSERT
// through a Distributed table once its shards have written it (distributed_foreground_insert = 1).

// ErrClusterUnsupported is returned for a statement Cluster cannot render.
var ErrClusterUnsupported = errors.New("statement the cluster rendering does not know")

// DedupWindowSeconds is replicated_deduplication_window_seconds on the cluster's tables written with
// a deduplication token.
const DedupWindowSeconds = 604800

// Cluster renders migrations for a cluster: Cluster names the cluster (remote_servers), Database the
// database the Distributed tables read.
type Cluster struct {
	Name     string
	Database string
	// tables are the storage tables created so far, by name: their sorting key.
	tables map[string]string
	// mvs are the materialized views created so far.
	mvs map[string]bool
}

var clusterName = regexp.MustCompile(`^[A-Za-z0-9_.{}-]+$`)

// NewCluster returns a renderer for cluster name and database db.
func NewCluster(name, db string) (*Cluster, error) {
	if !clusterName.MatchString(name) {
		return nil, fmt.Errorf("cluster name %q: want letters, digits, _ . - or a {macro}", name)
	}
	if !clusterName.MatchString(db) || strings.ContainsAny(db, "{}") {
		return nil, fmt.Errorf("database name %q: want letters, digits, _ . -", db)
	}
	return &Cluster{Name: name, Database: db, tables: map[string]string{}, mvs: map[string]bool{}}, nil
}

// LocalSuffix names the replicated local table behind a Distributed one.
const LocalSuffix = "_local"

func (c *Cluster) on() string { return " ON CLUSTER '" + c.Name + "'" }

// Render renders one statement of a migration (in order: the storage tables created by earlier
// statements are remembered) into the statements to run on the cluster.
func (c *Cluster) Render(stmt string) ([]string, error) {
	toks := lex(stmt)
	r := &rendering{c: c, src: stmt, toks: toks}
	var out []string
	var err error
	switch {
	case r.words(0, "CREATE", "DATABASE"):
		out, err = r.simple(2, "CREATE DATABASE")
	case r.words(0, "CREATE", "MATERIALIZED", "VIEW"):
		out, err = r.materializedView(3)
	case r.words(0, "CREATE", "VIEW"), r.words(0, "CREATE", "OR", "REPLACE", "VIEW"):
		out, err = r.simple(r.skipWords(0, "CREATE", "OR", "REPLACE", "VIEW"), "CREATE VIEW")
	case r.words(0, "CREATE", "TABLE"), r.words(0, "CREATE", "OR", "REPLACE", "TABLE"):
		out, err = r.createTable()
	case r.words(0, "ALTER", "TABLE"):
		out, err = r.alter()
	case r.words(0, "DROP", "TABLE"), r.words(0, "DROP", "VIEW"), r.words(0, "DROP", "DICTIONARY"):
		out, err = r.drop()
	case r.words(0, "RENAME", "TABLE"):
		out, err = r.rename()
	case r.words(0, "EXCHANGE", "TABLES"):
		out, err = r.exchange()
	case r.words(0, "DELETE", "FROM"):
		out, err = r.local(2, "DELETE FROM")
	case r.words(0, "TRUNCATE", "TABLE"):
		out, err = r.local(2, "TRUNCATE TABLE")
	case r.words(0, "OPTIMIZE", "TABLE"):
		out, err = r.local(2, "OPTIMIZE TABLE")
	case r.words(0, "INSERT", "INTO"):
		out = []string{stmt} // once, through the Distributed tables
	case r.words(0, "SELECT"):
		out = []string{stmt} // a check (throwIf), once, through the Distributed tables
	default:
		err = ErrClusterUnsupported
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, firstLine(stmt))
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// rendering is one statement being rendered.
type rendering struct {
	c    *Cluster
	src  string
	toks []token
}

// words reports whether the tokens from i are the given keywords (case-insensitive).
func (r *rendering) words(i int, kw ...string) bool {
	for j, w := range kw {
		if i+j >= len(r.toks) || r.toks[i+j].kind != tokWord || !strings.EqualFold(r.toks[i+j].text, w) {
			return false
		}
	}
	return true
}

// skipWords skips the tokens from i that are the given keywords, in order, each optional.
func (r *rendering) skipWords(i int, kw ...string) int {
	for _, w := range kw {
		if r.words(i, w) {
			i++
		}
	}
	return i
}

// name reads an object name at i (IF [NOT] EXISTS skipped): the index of its last token and its text.
func (r *rendering) name(i int) (first, last int, name string, err error) {
	switch {
	case r.words(i, "IF", "NOT", "EXISTS"):
		i += 3
	case r.words(i, "IF", "EXISTS"):
		i += 2
	}
	if i >= len(r.toks) || r.toks[i].kind != tokWord {
		return 0, 0, "", errors.New("no object name")
	}
	first, last = i, i
	if i+2 < len(r.toks) && r.toks[i+1].text == "." && r.toks[i+2].kind == tokWord {
		last = i + 2
	}
	if last != first {
		return 0, 0, "", fmt.Errorf("%w (a database-qualified name: the cluster schema lives in the DSN's database)", ErrClusterUnsupported)
	}
	return first, last, r.toks[first].ident(), nil
}

// edit is one replacement of src[from:to].
type edit struct {
	from, to int
	text     string
}

func applyEdits(src string, edits []edit) string {
	slices.SortStableFunc(edits, func(a, b edit) int { return a.from - b.from })
	var b strings.Builder
	at := 0
	for _, e := range edits { // not overlapping
		b.WriteString(src[at:e.from])
		b.WriteString(e.text)
		at = e.to
	}
	b.WriteString(src[at:])
	return b.String()
}

// simple inserts ON CLUSTER after the object name that follows token i.
func (r *rendering) simple(i int, what string) ([]string, error) {
	_, last, _, err := r.name(i)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return []string{applyEdits(r.src, []edit{{r.toks[last].end, r.toks[last].end, r.c.on()}})}, nil
}

// local renders a statement on a storage table (the name after token i) for its local tables, ON
// CLUSTER; on another object, ON CLUSTER as it is.
func (r *rendering) local(i int, what string) ([]string, error) {
	first, last, name, err := r.name(i)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if _, ok := r.c.tables[name]; !ok {
		return r.simple(i, what)
	}
	t := r.toks[first]
	return []string{applyEdits(r.src, []edit{{t.pos, r.toks[last].end, name + LocalSuffix + r.c.on()}})}, nil
}

// distributed is the CREATE of the Distributed table name over name_local.
func (c *Cluster) distributed(name, key, ifNotExists, comment string) string {
	s := "CREATE TABLE " + ifNotExists + name + c.on() + " AS " + name + LocalSuffix + "\n" +
		"ENGINE = Distributed('" + c.Name + "', '" + c.Database + "', '" + name + LocalSuffix + "', " + shardingKey(key) + ")"
	if comment != "" {
		s += "\nCOMMENT " + comment
	}
	return s
}

// shardingKey hashes a sorting key: rows with the same key land on the same shard.
func shardingKey(key string) string {
	k := strings.TrimSpace(key)
	if k == "" || strings.EqualFold(strings.ReplaceAll(k, " ", ""), "tuple()") {
		return "rand()" // no key: rows never fold, any shard will do
	}
	if toks := lex(k); len(toks) > 1 && toks[0].text == "(" && closing(toks, 0) == len(toks)-1 {
		k = strings.TrimSpace(k[toks[0].end:toks[len(toks)-1].pos]) // (a, b) → a, b
	}
	return "cityHash64(" + k + ")"
}

func (c *Cluster) dropBoth(name, ifExists string) []string {
	return []string{
		"DROP TABLE " + ifExists + name + c.on() + " SYNC",
		"DROP TABLE " + ifExists + name + LocalSuffix + c.on() + " SYNC",
	}
}

// createTable renders CREATE TABLE: a storage table becomes its replicated local table and a
// Distributed table; another engine is created ON CLUSTER as it is.
func (r *rendering) createTable() ([]string, error) {
	i := r.skipWords(0, "CREATE", "OR", "REPLACE", "TABLE")
	ifNot := ""
	if r.words(i, "IF", "NOT", "EXISTS") {
		ifNot = "IF NOT EXISTS "
	}
	first, last, name, err := r.name(i)
	if err != nil {
		return nil, fmt.Errorf("CREATE TABLE: %w", err)
	}
	// The top-level clauses after the columns.
	clause := map[string]int{}
	for j := last + 1; j < len(r.toks); j++ {
		t := r.toks[j]
		if t.depth != 0 || t.kind != tokWord {
			continue
		}
		for _, kw := range []string{"ENGINE", "ORDER", "PARTITION", "PRIMARY", "SAMPLE", "TTL", "SETTINGS", "COMMENT", "AS"} {
			if strings.EqualFold(t.text, kw) {
				if _, seen := clause[kw]; !seen {
					clause[kw] = j
				}
			}
		}
	}
	for j := last + 1; j < len(r.toks); j++ {
		if r.toks[j].depth == 0 && (r.words(j, "AS", "SELECT") || r.words(j, "AS", "WITH") || (r.words(j, "AS") && j+1 < len(r.toks) && r.toks[j+1].text == "(")) {
			return nil, fmt.Errorf("%w (CREATE TABLE … AS SELECT: create the table, then INSERT … SELECT)", ErrClusterUnsupported)
		}
	}
	engineAt, hasEngine := clause["ENGINE"]
	var family string
	var engName, engArgs int = -1, -1 // token indexes: the engine's name and its '('
	if hasEngine {
		j := engineAt + 1
		if j < len(r.toks) && r.toks[j].text == "=" {
			j++
		}
		if j >= len(r.toks) || r.toks[j].kind != tokWord {
			return nil, errors.New("CREATE TABLE: ENGINE without a name")
		}
		engName, family = j, r.toks[j].text
		if j+1 < len(r.toks) && r.toks[j+1].text == "(" {
			engArgs = j + 1
		}
	}
	// CREATE TABLE x AS y [ENGINE …]: a copy of y's structure (and engine, when none is given).
	copyOf := ""
	if as, ok := clause["AS"]; ok && as == last+1 && as+1 < len(r.toks) && r.toks[as+1].kind == tokWord {
		copyOf = r.toks[as+1].ident()
	}
	_, copiesStorage := r.c.tables[copyOf]
	storage := strings.HasSuffix(family, "MergeTree") || (!hasEngine && copiesStorage)
	if !storage {
		return r.simple(i, "CREATE TABLE")
	}
	if strings.HasPrefix(family, "Replicated") {
		return nil, fmt.Errorf("%w (a Replicated engine already: the migrations are written for one server)", ErrClusterUnsupported)
	}
	key := r.c.tables[copyOf]
	if ob, ok := clause["ORDER"]; ok && r.words(ob, "ORDER", "BY") {
		key = r.span(ob+2, r.clauseEnd(ob+2, clause))
	}
	comment := ""
	if cm, ok := clause["COMMENT"]; ok && cm+1 < len(r.toks) && r.toks[cm+1].kind == tokString {
		comment = r.toks[cm+1].text
	}

	edits := []edit{{r.toks[first].pos, r.toks[last].end, name + LocalSuffix + r.c.on()}}
	if copiesStorage {
		t := r.toks[clause["AS"]+1]
		edits = append(edits, edit{t.pos, t.end, copyOf + LocalSuffix})
	}
	if hasEngine {
		args := ""
		end := r.toks[engName].end
		if engArgs >= 0 {
			cl := closing(r.toks, engArgs)
			if cl < 0 {
				return nil, errors.New("CREATE TABLE: unbalanced engine arguments")
			}
			if inner := strings.TrimSpace(r.src[r.toks[engArgs].end:r.toks[cl].pos]); inner != "" {
				args = ", " + inner
			}
			end = r.toks[cl].end
		}
		edits = append(edits, edit{r.toks[engName].pos, end,
			"Replicated" + family + "('/clickhouse/tables/{uuid}/{shard}', '{replica}'" + args + ")"})
	}
	edits = append(edits, r.dedupWindow(clause)...)
	local := applyEdits(r.src, edits)
	r.c.tables[name] = key
	return []string{local, r.c.distributed(name, key, ifNot, comment)}, nil
}

// dedupWindow turns non_replicated_deduplication_window = N in SETTINGS into the replicated window.
func (r *rendering) dedupWindow(clause map[string]int) []edit {
	st, ok := clause["SETTINGS"]
	if !ok {
		return nil
	}
	for j := st + 1; j < len(r.toks) && j < r.clauseEnd(st+1, clause); j++ {
		t := r.toks[j]
		if t.kind != tokWord || !strings.EqualFold(t.text, "non_replicated_deduplication_window") {
			continue
		}
		if j+2 < len(r.toks) && r.toks[j+1].text == "=" {
			v := r.toks[j+2]
			return []edit{{t.pos, v.end, "replicated_deduplication_window = " + v.text +
				fmt.Sprintf(", replicated_deduplication_window_seconds = %d", DedupWindowSeconds)}}
		}
	}
	return nil
}

// clauseEnd is the index of the first top-level clause keyword after j (or the end).
func (r *rendering) clauseEnd(j int, clause map[string]int) int {
	end := len(r.toks)
	for _, at := range clause {
		if at > j && at < end {
			end = at
		}
	}
	return end
}

// span is the source text of tokens [from, to).
func (r *rendering) span(from, to int) string {
	if from >= to || from >= len(r.toks) {
		return ""
	}
	return strings.TrimSpace(r.src[r.toks[from].pos:r.toks[to-1].end])
}

// materializedView renders CREATE MATERIALIZED VIEW … TO target AS SELECT: ON CLUSTER, into the
// target's local table, reading local tables.
func (r *rendering) materializedView(i int) ([]string, error) {
	_, last, name, err := r.name(i)
	if err != nil {
		return nil, fmt.Errorf("CREATE MATERIALIZED VIEW: %w", err)
	}
	if !r.words(last+1, "TO") || last+2 >= len(r.toks) {
		return nil, fmt.Errorf("%w (a materialized view without TO: give it a target table)", ErrClusterUnsupported)
	}
	edits := []edit{{r.toks[last].end, r.toks[last].end, r.c.on()}}
	target := r.toks[last+2]
	if _, ok := r.c.tables[target.ident()]; ok {
		edits = append(edits, edit{target.pos, target.end, target.ident() + LocalSuffix})
	}
	edits = append(edits, r.localReads(last+3)...)
	r.c.mvs[name] = true
	return []string{applyEdits(r.src, edits)}, nil
}

// localReads renames the storage tables read after token i (after FROM or JOIN) to their local tables.
func (r *rendering) localReads(i int) []edit {
	var edits []edit
	for j := i; j+1 < len(r.toks); j++ {
		if !r.words(j, "FROM") && !r.words(j, "JOIN") {
			continue
		}
		t := r.toks[j+1]
		if _, ok := r.c.tables[t.ident()]; ok && t.kind == tokWord && (j+2 >= len(r.toks) || r.toks[j+2].text != ".") {
			edits = append(edits, edit{t.pos, t.end, t.ident() + LocalSuffix})
		}
	}
	return edits
}

// columnCommand reports whether an ALTER command changes the columns (which the Distributed table
// must follow).
func columnCommand(cmd []token) bool {
	if len(cmd) < 2 || cmd[0].kind != tokWord || cmd[1].kind != tokWord {
		return false
	}
	verb, obj := strings.ToUpper(cmd[0].text), strings.ToUpper(cmd[1].text)
	return obj == "COLUMN" && (verb == "ADD" || verb == "DROP" || verb == "MODIFY" || verb == "RENAME" || verb == "COMMENT")
}

// alter renders ALTER TABLE: on a storage table, every command on the local tables ON CLUSTER, and
// the column commands on the Distributed table too; on a materialized view, reading the local
// tables; on another object, ON CLUSTER as it is.
func (r *rendering) alter() ([]string, error) {
	first, last, name, err := r.name(2)
	if err != nil {
		return nil, fmt.Errorf("ALTER TABLE: %w", err)
	}
	if r.words(last+1, "ON", "CLUSTER") {
		return nil, fmt.Errorf("%w (already ON CLUSTER)", ErrClusterUnsupported)
	}
	if _, ok := r.c.tables[name]; !ok {
		edits := []edit{{r.toks[last].end, r.toks[last].end, r.c.on()}}
		if r.c.mvs[name] {
			edits = append(edits, r.localReads(last+1)...)
		}
		return []string{applyEdits(r.src, edits)}, nil
	}
	local := applyEdits(r.src, append([]edit{{r.toks[first].pos, r.toks[last].end, name + LocalSuffix + r.c.on()}}, r.renameSettings(last+1)...))
	out := []string{local}
	// The column commands, split at top-level commas, for the Distributed table.
	var cols []string
	start := last + 1
	for j := start; j <= len(r.toks); j++ {
		if j < len(r.toks) && !(r.toks[j].depth == 0 && r.toks[j].text == ",") {
			continue
		}
		if cmd := r.toks[start:j]; columnCommand(cmd) {
			cols = append(cols, withoutCodec(r.src, cmd))
		}
		start = j + 1
	}
	if len(cols) > 0 {
		out = append(out, "ALTER TABLE "+name+r.c.on()+"\n    "+strings.Join(cols, ",\n    "))
	}
	return out, nil
}

// renameSettings turns non_replicated_deduplication_window into its replicated name (MODIFY SETTING).
func (r *rendering) renameSettings(from int) []edit {
	var edits []edit
	for j := from; j < len(r.toks); j++ {
		if t := r.toks[j]; t.kind == tokWord && strings.EqualFold(t.text, "non_replicated_deduplication_window") {
			edits = append(edits, edit{t.pos, t.end, "replicated_deduplication_window"})
		}
	}
	return edits
}

// withoutCodec is a column command's text without its CODEC(…): a Distributed table stores nothing.
func withoutCodec(src string, cmd []token) string {
	var edits []edit
	base := cmd[0].pos
	for j := 0; j < len(cmd); j++ {
		if cmd[j].kind == tokWord && strings.EqualFold(cmd[j].text, "CODEC") && j+1 < len(cmd) && cmd[j+1].text == "(" {
			if cl := closing(cmd, j+1); cl > 0 {
				edits = append(edits, edit{cmd[j].pos - base, cmd[cl].end - base, ""})
				j = cl
			}
		}
	}
	s := applyEdits(src[base:cmd[len(cmd)-1].end], edits)
	return strings.Join(strings.Fields(s), " ")
}

// drop renders DROP: a storage table's Distributed and local tables; anything else ON CLUSTER. Every
// drop waits for the table to be gone (SYNC), so a table of the same name can be created next.
func (r *rendering) drop() ([]string, error) {
	i := 2
	ifExists := ""
	if r.words(i, "IF", "EXISTS") {
		ifExists = "IF EXISTS "
	}
	_, last, name, err := r.name(i)
	if err != nil {
		return nil, fmt.Errorf("DROP: %w", err)
	}
	if _, ok := r.c.tables[name]; ok {
		delete(r.c.tables, name)
		return r.c.dropBoth(name, ifExists), nil
	}
	delete(r.c.mvs, name)
	s := applyEdits(r.src, []edit{{r.toks[last].end, r.toks[last].end, r.c.on()}})
	if !r.words(len(r.toks)-1, "SYNC") {
		s += " SYNC"
	}
	return []string{s}, nil
}

// rename renders RENAME TABLE a TO b[, c TO d]: a storage table's local table is renamed and its
// Distributed table created again over it; other objects are renamed ON CLUSTER.
func (r *rendering) rename() ([]string, error) {
	i := 2
	ifExists := ""
	if r.words(i, "IF", "EXISTS") {
		ifExists, i = "IF EXISTS ", i+2
	}
	var out []string
	for {
		if i+2 >= len(r.toks) || r.toks[i].kind != tokWord || !r.words(i+1, "TO") || r.toks[i+2].kind != tokWord {
			return nil, fmt.Errorf("%w (RENAME TABLE a TO b, …)", ErrClusterUnsupported)
		}
		from, to := r.toks[i].ident(), r.toks[i+2].ident()
		if key, ok := r.c.tables[from]; ok {
			out = append(out, "RENAME TABLE "+ifExists+from+LocalSuffix+" TO "+to+LocalSuffix+r.c.on(),
				"DROP TABLE IF EXISTS "+from+r.c.on()+" SYNC",
				r.c.distributed(to, key, "", ""))
			delete(r.c.tables, from)
			r.c.tables[to] = key
		} else {
			out = append(out, "RENAME TABLE "+ifExists+from+" TO "+to+r.c.on())
			if r.c.mvs[from] {
				delete(r.c.mvs, from)
				r.c.mvs[to] = true
			}
		}
		i += 3
		if i >= len(r.toks) {
			return out, nil
		}
		if r.toks[i].text != "," {
			return nil, fmt.Errorf("%w (RENAME TABLE a TO b, …)", ErrClusterUnsupported)
		}
		i++
	}
}

// exchange renders EXCHANGE TABLES a AND b: the local tables are exchanged and both Distributed tables
// created again over them (their columns may differ).
func (r *rendering) exchange() ([]string, error) {
	if len(r.toks) != 5 || !r.words(3, "AND") {
		return nil, fmt.Errorf("%w (EXCHANGE TABLES a AND b)", ErrClusterUnsupported)
	}
	a, b := r.toks[2].ident(), r.toks[4].ident()
	ka, okA := r.c.tables[a]
	kb, okB := r.c.tables[b]
	if !okA && !okB {
		return []string{"EXCHANGE TABLES " + a + " AND " + b + r.c.on()}, nil
	}
	if !okA || !okB {
		return nil, fmt.Errorf("%w (EXCHANGE of a storage table with another kind of object)", ErrClusterUnsupported)
	}
	r.c.tables[a], r.c.tables[b] = kb, ka
	out := []string{"EXCHANGE TABLES " + a + LocalSuffix + " AND " + b + LocalSuffix + r.c.on()}
	out = append(out, "DROP TABLE IF EXISTS "+a+r.c.on()+" SYNC", "DROP TABLE IF EXISTS "+b+r.c.on()+" SYNC")
	return append(out, r.c.distributed(a, kb, "", ""), r.c.distributed(b, ka, "", "")), nil
}

// The lexer: enough of ClickHouse's SQL to find names, clauses and parentheses.

type tokKind int

const (
	tokWord   tokKind = iota // keyword or identifier, `quoted` or "quoted" too
	tokString                // '…'
	tokNumber
	tokPunct
)

type token struct {
	kind     tokKind
	text     string
	pos, end int // in the source
	depth    int // parentheses and brackets open before it
}

// ident is a word token's name without its quotes.
func (t token) ident() string {
	if len(t.text) >= 2 && (t.text[0] == '`' || t.text[0] == '"') {
		return t.text[1 : len(t.text)-1]
	}
	return t.text
}

// closing returns the index of the token closing the parenthesis or bracket at open, or -1.
func closing(toks []token, open int) int {
	for j := open + 1; j < len(toks); j++ {
		if toks[j].depth == toks[open].depth && (toks[j].text == ")" || toks[j].text == "]") {
			return j
		}
	}
	return -1
}

func lex(s string) []token {
	var toks []token
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				i = len(s)
			} else {
				i += j + 4
			}
		case c == '\'' || c == '`' || c == '"':
			j := i + 1
			for j < len(s) {
				if s[j] == '\\' {
					j += 2
					continue
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(s))
			kind := tokWord
			if c == '\'' {
				kind = tokString
			}
			toks = append(toks, token{kind: kind, text: s[i:end], pos: i, end: end, depth: depth})
			i = end
		case isWordByte(c):
			j := i
			for j < len(s) && (isWordByte(s[j]) || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			toks = append(toks, token{kind: tokWord, text: s[i:j], pos: i, end: j, depth: depth})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isWordByte(s[j]) || (s[j] >= '0' && s[j] <= '9') || s[j] == '.') {
				j++
			}
			toks = append(toks, token{kind: tokNumber, text: s[i:j], pos: i, end: j, depth: depth})
			i = j
		default:
			if c == ')' || c == ']' {
				depth--
			}
			toks = append(toks, token{kind: tokPunct, text: s[i : i+1], pos: i, end: i + 1, depth: depth})
			if c == '(' || c == '[' {
				depth++
			}
			i++
		}
	}
	return toks
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}
