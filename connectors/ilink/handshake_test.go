package ilink_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/connectors/ilink"
)

// callbackHandler is a stand-in for serve's GET handler: it checks the signature the way given
// (sorted, concat, or either) with its token and echoes echostr.
func callbackHandler(token string, accept ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		sig, ts, echo := q.Get("signature"), q.Get("timestamp"), q.Get("echostr")
		for _, how := range accept {
			parts := []string{token, ts, echo}
			if how == "sorted" {
				// Sort the three by hand, independently of the code under test.
				for i := 0; i < 3; i++ {
					for j := i + 1; j < 3; j++ {
						if parts[j] < parts[i] {
							parts[i], parts[j] = parts[j], parts[i]
						}
					}
				}
			}
			sum := md5.Sum([]byte(parts[0] + parts[1] + parts[2]))
			if strings.EqualFold(hex.EncodeToString(sum[:]), sig) {
				io.WriteString(w, echo)
				return
			}
		}
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "bad signature")
	})
}

func TestSignatureKnownValues(t *testing.T) {
	// md5sum of "1457408202abcdefgecho" (sorted) and of "abcdefg1457408202echo" (the samples' order).
	if got := ilink.Signature("abcdefg", "1457408202", "echo", ilink.Sorted); got != "2c6291421a66f190c1f4cc3f357db7d1" {
		t.Errorf("sorted: %s", got)
	}
	if got := ilink.Signature("abcdefg", "1457408202", "echo", ilink.Concatenated); got != "83b75e76f4c26c22cd364dcac395c925" {
		t.Errorf("concatenated: %s", got)
	}
}

func TestCheckCallback(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	for name, c := range map[string]struct {
		accept []string
		want   []ilink.SignatureOrder
	}{
		"serve accepts both readings": {[]string{"sorted", "concat"}, []ilink.SignatureOrder{ilink.Sorted, ilink.Concatenated}},
		"serve accepts sorted only":   {[]string{"sorted"}, []ilink.SignatureOrder{ilink.Sorted}},
		"serve accepts concat only":   {[]string{"concat"}, []ilink.SignatureOrder{ilink.Concatenated}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(callbackHandler("tok123", c.accept...))
			defer srv.Close()
			res, err := ilink.CheckCallback(ctx, nil, srv.URL+"/v1/ilink/app/path-secret-1", "tok123", now, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Accepted) != len(c.want) || res.Accepted[0] != c.want[0] || len(res.Answers) != 2 {
				t.Errorf("accepted %v, answers %q", res.Accepted, res.Answers)
			}
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		srv := httptest.NewServer(callbackHandler("other", "sorted", "concat"))
		defer srv.Close()
		_, err := ilink.CheckCallback(ctx, nil, srv.URL+"/v1/ilink/app/path-secret-1", "tok123", now, time.Second)
		if !errors.Is(err, ilink.ErrCallbackCheck) || !strings.Contains(err.Error(), "HTTP 401") {
			t.Fatalf("want ErrCallbackCheck with the answer, got %v", err)
		}
		if strings.Contains(err.Error(), "path-secret-1") || strings.Contains(err.Error(), "tok123") {
			t.Errorf("the error shows a secret: %v", err)
		}
	})
	t.Run("wrong body", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		defer srv.Close()
		_, err := ilink.CheckCallback(ctx, nil, srv.URL+"/cb", "tok123", now, time.Second)
		if !errors.Is(err, ilink.ErrCallbackCheck) || !strings.Contains(err.Error(), "not the echostr") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := ilink.CheckCallback(ctx, nil, url+"/v1/ilink/app/path-secret-1?x=1", "tok123", now, time.Second)
		if !errors.Is(err, ilink.ErrCallbackCheck) || !strings.Contains(err.Error(), "no answer") || strings.Contains(err.Error(), "path-secret-1") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("slow serve", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		start := time.Now()
		_, err := ilink.CheckCallback(ctx, nil, srv.URL+"/cb", "tok123", now, 100*time.Millisecond)
		if !errors.Is(err, ilink.ErrCallbackCheck) || time.Since(start) > time.Second {
			t.Fatalf("got %v after %s", err, time.Since(start))
		}
	})
}

// TestRegisterHandshake: set_config register against the fake, which performs the platform's GET
// handshake on the callback URL: a serve that answers gets code 0, one that does not gets 1006 with
// its meaning.
func TestRegisterHandshake(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := fixture(t)
	good := httptest.NewServer(callbackHandler("tok123", "sorted", "concat"))
	defer good.Close()
	for _, order := range []string{"sorted", "concat"} {
		fake.Handshake(true, order)
		if _, err := c.Register(ctx, ilink.Registration{CallbackURL: good.URL + "/v1/ilink/" + appKey + "/ps", Token: "tok123"}); err != nil {
			t.Fatalf("%s: %v", order, err)
		}
		if reg, ok := fake.Registration(uid); !ok || reg.Token != "tok123" {
			t.Fatalf("%s: registration %+v", order, reg)
		}
	}
	if _, err := c.Query(ctx, good.URL+"/v1/ilink/"+appKey+"/ps"); err != nil {
		t.Fatalf("query the registered URL: %v", err)
	}
	_, err := c.Register(ctx, ilink.Registration{CallbackURL: good.URL + "/v1/ilink/" + appKey + "/ps", Token: "wrongtoken"})
	var ae *ilink.APIError
	if !errors.As(err, &ae) || ae.Code != ilink.CodeCallbackRejected || !errors.Is(err, ilink.ErrCallbackRejected) {
		t.Fatalf("want 1006, got %v", err)
	}
	if !strings.Contains(err.Error(), "Http 回调验证失败") || ae.Code.Hint() == "" {
		t.Errorf("1006 without its meaning or hint: %v", err)
	}
	if strings.Contains(err.Error(), "wrongtoken") {
		t.Error("the error shows the token")
	}
}
