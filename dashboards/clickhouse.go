package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// The ClickHouse plugin's query model, which the Foundation SDK lacks: a custom dataquery variant, as
// the SDK's README ("Defining a custom query type") describes, with the fields the plugin reads from a
// SQL-editor query (grafana/clickhouse-datasource v4.20.0, src/types/sql.ts CHSqlQuery: editorType,
// rawSql, format, queryType, pluginVersion; the backend reads rawSql and format through sqlds, and
// meta.timezone in pkg/plugin/driver.go MutateQuery, which we leave unset: the queries are in UTC).

// ClickHouseType is the plugin's id, the type of its datasource references.
const ClickHouseType = "grafana-clickhouse-datasource"

// ClickHousePluginVersion is the plugin version docker-compose.yml installs (GF_PLUGINS_PREINSTALL_SYNC).
const ClickHousePluginVersion = "4.20.0"

// Result formats of the plugin (sqlds's sqlutil.FormatQueryOption): a time series is a long result (a
// time column, string label columns, numbers; rows sorted by time) the plugin turns into one series per
// label set.
const (
	FormatTimeSeries = 0
	FormatTable      = 1
)

// CHQuery is a query of the ClickHouse plugin's SQL editor.
type CHQuery struct {
	RefID         string                `json:"refId"`
	Hide          *bool                 `json:"hide,omitempty"`
	Datasource    *common.DataSourceRef `json:"datasource,omitempty"`
	PluginVersion string                `json:"pluginVersion"`
	EditorType    string                `json:"editorType"` // "sql"
	QueryType     string                `json:"queryType"`  // "timeseries" or "table"
	Format        int                   `json:"format"`     // FormatTimeSeries or FormatTable
	RawSQL        string                `json:"rawSql"`
}

var _ variants.Dataquery = CHQuery{}

// ImplementsDataqueryVariant marks CHQuery as a panel target for the SDK.
func (CHQuery) ImplementsDataqueryVariant() {}

// DataqueryType is the plugin id the SDK's runtime looks the variant up by.
func (CHQuery) DataqueryType() string { return ClickHouseType }

// Equals compares two queries field by field.
func (q CHQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(CHQuery)
	return ok && reflect.DeepEqual(q, o)
}

// Validate checks what the plugin needs to run the query as its panel expects.
func (q CHQuery) Validate() error {
	var errs []error
	if q.RefID == "" {
		errs = append(errs, errors.New("refId is empty"))
	}
	if q.Datasource == nil || q.Datasource.Type == nil || *q.Datasource.Type != ClickHouseType {
		errs = append(errs, fmt.Errorf("datasource is not a %s", ClickHouseType))
	}
	if q.EditorType != "sql" {
		errs = append(errs, fmt.Errorf("editorType %q, want sql", q.EditorType))
	}
	switch {
	case q.QueryType == "timeseries" && q.Format == FormatTimeSeries, q.QueryType == "table" && q.Format == FormatTable:
	default:
		errs = append(errs, fmt.Errorf("queryType %q with format %d: want timeseries with %d or table with %d", q.QueryType, q.Format, FormatTimeSeries, FormatTable))
	}
	if q.RawSQL == "" {
		errs = append(errs, errors.New("rawSql is empty"))
	}
	if err := errors.Join(errs...); err != nil {
		return cog.MakeBuildErrors("clickhouse.query", err)
	}
	return nil
}

// CHQueryVariant registers CHQuery with the SDK's runtime, so dashboards unmarshal their ClickHouse
// targets into it (cog.NewRuntime().RegisterDataqueryVariant).
func CHQueryVariant() variants.DataqueryConfig {
	return variants.DataqueryConfig{
		Identifier: ClickHouseType,
		DataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q CHQuery
			if err := json.Unmarshal(raw, &q); err != nil {
				return nil, fmt.Errorf("decode ClickHouse query: %w", err)
			}
			return q, nil
		},
		StrictDataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q CHQuery
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&q); err != nil {
				return nil, fmt.Errorf("decode ClickHouse query: %w", err)
			}
			return q, q.Validate()
		},
	}
}

// CHQueryBuilder builds a CHQuery: a cog.Builder[variants.Dataquery], so panels take it as a target.
type CHQueryBuilder struct {
	q   CHQuery
	err error
}

var _ cog.Builder[variants.Dataquery] = (*CHQueryBuilder)(nil)

// NewCHQuery is the query of a panel of the given kind ("timeseries" or "table") reading the file
// queries/NAME.sql with the panel's constants, made into Grafana's terms by PanelSQL.
func NewCHQuery(name, kind string, constants map[string]string) *CHQueryBuilder {
	b := &CHQueryBuilder{q: CHQuery{
		RefID:         "A",
		Datasource:    ClickHouse(),
		PluginVersion: ClickHousePluginVersion,
		EditorType:    "sql",
		QueryType:     kind,
		Format:        FormatTable,
	}}
	if kind == "timeseries" {
		b.q.Format = FormatTimeSeries
	}
	b.q.RawSQL, b.err = querySQL(name, constants)
	return b
}

// RefID sets the query's reference id (A by default).
func (b *CHQueryBuilder) RefID(id string) *CHQueryBuilder {
	b.q.RefID = id
	return b
}

// Build returns the query, or why it cannot be made.
func (b *CHQueryBuilder) Build() (variants.Dataquery, error) {
	if b.err != nil {
		return nil, cog.MakeBuildErrors("clickhouse.query", b.err)
	}
	if err := b.q.Validate(); err != nil {
		return nil, err
	}
	return b.q, nil
}
