package ilink

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imarchive/imarchive/connectors"
)

// SignatureOrder is how the three handshake values are joined before hashing. The manual contradicts
// itself (§3.1): its table says to sort token, timestamp and echostr lexicographically, its Java and PHP
// samples join them as token + timestamp + echostr. Which one the platform uses is not known from here,
// so the callback check tries both and says which our serve accepted.
type SignatureOrder int

const (
	// Sorted: the three strings sorted lexicographically, then joined (the manual's table).
	Sorted SignatureOrder = iota
	// Concatenated: token + timestamp + echostr (the manual's Java and PHP samples).
	Concatenated
)

func (o SignatureOrder) String() string {
	if o == Concatenated {
		return "token+timestamp+echostr (the manual's samples)"
	}
	return "sorted (the manual's table)"
}

// Signature is the GET handshake's signature: lower-case hex MD5 of the three values joined in order.
func Signature(token, timestamp, echostr string, order SignatureOrder) string {
	parts := []string{token, timestamp, echostr}
	if order == Sorted {
		sort.Strings(parts)
	}
	sum := md5.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// HandshakeURL returns callbackURL with the handshake's query parameters added (signature, timestamp,
// echostr), as the platform sends them.
func HandshakeURL(callbackURL, token, timestamp, echostr string, order SignatureOrder) (string, error) {
	u, err := url.Parse(callbackURL)
	if err != nil {
		return "", fmt.Errorf("parse callback URL: %w", err)
	}
	q := u.Query()
	q.Set("signature", Signature(token, timestamp, echostr, order))
	q.Set("timestamp", timestamp)
	q.Set("echostr", echostr)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// CheckResult is what the callback check saw, for each signature reading.
type CheckResult struct {
	Accepted []SignatureOrder // readings whose GET got the echostr back
	Answers  []string         // one line per reading: what came back
}

// OK says whether serve answered at least one reading.
func (r CheckResult) OK() bool { return len(r.Accepted) > 0 }

// ErrCallbackCheck is wrapped by CheckCallback's error when serve did not answer the handshake.
var ErrCallbackCheck = errors.New("callback check failed")

// CheckCallback does what the platform does after set_config (§3.1): a GET to the callback URL with a
// signature, a timestamp and an echostr, expecting the echostr back as the body. It tries both
// signature readings (see SignatureOrder). It returns an error wrapping ErrCallbackCheck when neither
// got the echostr back; the callback URL's path secret and the token never appear in it.
func CheckCallback(ctx context.Context, client *http.Client, callbackURL string, token connectors.Secret, now time.Time, timeout time.Duration) (CheckResult, error) {
	if client == nil {
		client = http.DefaultClient
	}
	redact := connectors.NewRedactor(append(connectors.URLSecrets(callbackURL), token.Reveal())...)
	var res CheckResult
	var fails []string
	for _, order := range []SignatureOrder{Sorted, Concatenated} {
		echostr := randomEcho()
		ts := strconv.FormatInt(now.Unix(), 10)
		u, err := HandshakeURL(callbackURL, token.Reveal(), ts, echostr, order)
		if err != nil {
			return res, err
		}
		answer, err := get(ctx, client, u, timeout)
		line := ""
		switch {
		case err != nil:
			line = fmt.Sprintf("%s: no answer: %v", order, redact.Error(connectors.TransportError(http.MethodGet, connectors.MaskURL(callbackURL), err)))
		case answer.status != http.StatusOK:
			line = fmt.Sprintf("%s: HTTP %d, body %q", order, answer.status, clip(redact.String(answer.body)))
		case strings.TrimSpace(answer.body) != echostr:
			line = fmt.Sprintf("%s: HTTP 200 but the body %q is not the echostr", order, clip(redact.String(answer.body)))
		default:
			line = fmt.Sprintf("%s: echostr returned", order)
			res.Accepted = append(res.Accepted, order)
		}
		res.Answers = append(res.Answers, line)
		if !strings.HasSuffix(line, "echostr returned") {
			fails = append(fails, line)
		}
	}
	if !res.OK() {
		return res, fmt.Errorf("%w: GET %s did not return the echostr: %s", ErrCallbackCheck, connectors.MaskURL(callbackURL), strings.Join(fails, "; "))
	}
	return res, nil
}

type answer struct {
	status int
	body   string
}

func get(ctx context.Context, client *http.Client, u string, timeout time.Duration) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return answer{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, body: string(b)}, nil
}

func randomEcho() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
