//go:build !unix

package spool

import "os"

// lockDir: no advisory lock on this system; run one serve per spool directory.
func lockDir(string) (*os.File, error) { return nil, nil }

func unlockDir(*os.File) error { return nil }
