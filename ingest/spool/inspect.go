package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is what Inspect found in a spool directory, read without changing anything.
type Report struct {
	Dir       string
	Segments  int
	DiskBytes int64
	Records   int   // not yet forwarded
	Bytes     int64 // their bytes
	Oldest    time.Time
	Newest    time.Time
	Forwarded uint64   // checkpoint
	Damaged   []Damage // found now in the segments
	SetAside  []string // files in the damaged directory: damaged stretches (.damaged) and records Kafka refused (.rejected)
}

// Inspect reads the spool in dir without taking it over (serve may be running on it) and calls fn,
// when not nil, with every record not yet forwarded, in order. It writes nothing.
func Inspect(dir string, fn func(Record) error) (Report, error) {
	rep := Report{Dir: dir}
	if _, err := os.Stat(dir); err != nil {
		return rep, fmt.Errorf("spool directory: %w", err)
	}
	acked, err := readCheckpoint(dir)
	if err != nil {
		return rep, err
	}
	rep.Forwarded = acked
	names, err := listSegments(dir)
	if err != nil {
		return rep, err
	}
	var ferr error
	last := acked
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // forwarded and deleted meanwhile
		}
		if err != nil {
			return rep, fmt.Errorf("read spool segment: %w", err)
		}
		rep.Segments++
		rep.DiskBytes += int64(len(data))
		rep.Damaged = append(rep.Damaged, scan(name, data, func(f frame) {
			if f.seq <= last || ferr != nil {
				return
			}
			last = f.seq
			at := time.UnixMilli(f.atMs)
			if rep.Records == 0 {
				rep.Oldest = at
			}
			rep.Newest = at
			rep.Records++
			rep.Bytes += f.size()
			if fn != nil {
				ferr = fn(Record{Seq: f.seq, At: at, Payload: f.payload, size: f.size()})
			}
		})...)
		if ferr != nil {
			return rep, ferr
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, DamagedDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rep, fmt.Errorf("list damaged spool bytes: %w", err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".damaged") || strings.HasSuffix(e.Name(), ".rejected") {
			rep.SetAside = append(rep.SetAside, e.Name())
		}
	}
	return rep, nil
}
