package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/imarchive/imarchive/internal/cli"
)

func healthcheckCommand(stdout io.Writer) *cli.Command {
	c := cli.New("healthcheck", "GET a health URL and exit 0 on 200 (for container healthchecks; the image has no curl)", "")
	var (
		url     string
		timeout time.Duration
	)
	c.FS.StringVar(&url, "url", "http://127.0.0.1:8081/readyz", "URL to GET (default: serve's /readyz on its ops listener)")
	c.FS.DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	c.Run = func(args []string) error {
		if err := c.Parse(args); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
		}
		fmt.Fprintf(stdout, "%s", body)
		return nil
	}
	return c
}
