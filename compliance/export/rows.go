package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/imarchive/imarchive/internal/csvcell"
)

// eachRow reads an export data file and calls fn with each row: column name → value as text (a JSON
// string as its content, any other JSON value — numbers, booleans, maps, arrays — as its JSON text;
// CSV cells as they are, which is the same text, with the formula escaping undone when escaped is
// csvcell.Rule). It returns the number of rows.
func eachRow(path, format, escaped string, fn func(n int, row map[string]string) error) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	switch format {
	case FormatJSONL:
		return eachJSONRow(f, fn)
	case FormatCSV:
		switch escaped {
		case "":
			return eachCSVRow(f, func(s string) string { return s }, fn)
		case csvcell.Rule:
			return eachCSVRow(f, csvcell.Restore, fn)
		}
		return 0, fmt.Errorf("unknown CSV escaping %q", escaped)
	}
	return 0, fmt.Errorf("unknown format %q", format)
}

func eachJSONRow(r io.Reader, fn func(int, map[string]string) error) (int, error) {
	br := bufio.NewReader(r)
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				return n, fmt.Errorf("line %d: no newline at the end of the file (truncated?)", n+1)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(line, &raw); err != nil {
				return n, fmt.Errorf("line %d: %w", n+1, err)
			}
			row := make(map[string]string, len(raw))
			for k, v := range raw {
				var s string
				if json.Unmarshal(v, &s) == nil {
					row[k] = s
				} else {
					row[k] = string(v)
				}
			}
			n++
			if err := fn(n, row); err != nil {
				return n, fmt.Errorf("line %d: %w", n, err)
			}
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func eachCSVRow(r io.Reader, restore func(string) string, fn func(int, map[string]string) error) (int, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return 0, errors.New("no header row")
	}
	if err != nil {
		return 0, fmt.Errorf("header: %w", err)
	}
	n := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("record %d: %w", n+1, err)
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = restore(rec[i])
		}
		n++
		if err := fn(n, row); err != nil {
			return n, fmt.Errorf("record %d: %w", n, err)
		}
	}
}
