package event

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Marshal encodes e for the events topic. Two things keep the record close to the size of the
// callback it came from, so that a body under the ingest limit makes a record under the topic's:
//
//   - HTML characters are not escaped: "<", ">" and "&" stay one byte each, not six (\u003c);
//   - Body is not repeated in attrs: the attribute whose value is exactly Body (the smallest such
//     name, when several are) is left out and named in body_attr; Unmarshal puts it back.
//
// e is unchanged when Marshal returns.
func Marshal(e *Event) ([]byte, error) {
	w := *e
	w.BodyAttr = ""
	if e.Body != "" {
		for k, v := range e.Attrs {
			if len(v) == len(e.Body) && v == e.Body && (w.BodyAttr == "" || k < w.BodyAttr) {
				w.BodyAttr = k
			}
		}
	}
	if w.BodyAttr != "" {
		delete(e.Attrs, w.BodyAttr)
		defer func() { e.Attrs[w.BodyAttr] = e.Body }()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Unmarshal decodes an events-topic record written by Marshal (or by a build before body_attr,
// whose attrs are whole): the attribute named by body_attr gets Body back, so the event is the one
// that was marshaled.
func Unmarshal(b []byte, e *Event) error {
	if err := json.Unmarshal(b, e); err != nil {
		return err
	}
	if e.BodyAttr != "" {
		if e.Attrs == nil {
			e.Attrs = map[string]string{}
		}
		e.Attrs[e.BodyAttr] = e.Body
		e.BodyAttr = ""
	}
	return nil
}
