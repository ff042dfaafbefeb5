package ingest

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verification errors. Every one of them is answered 401 and nothing is produced.
var (
	ErrUnknownApp     = errors.New("unknown app")
	ErrMissingHeader  = errors.New("missing header")
	ErrBodyMD5        = errors.New("body MD5 does not match the MD5 header")
	ErrChecksum       = errors.New("CheckSum does not match")
	ErrStale          = errors.New("CurTime outside the freshness window")
	ErrAppKeyMismatch = errors.New("AppKey header differs from the path's appkey")
)

// VerifyNetease checks a NetEase Yunxin copy request: the MD5 header is the hex MD5 of the raw body,
// CheckSum is the hex SHA1 of AppSecret+MD5+CurTime with the MD5 header as sent (or lower-cased), and
// CurTime (ms since the epoch) is within window of now. Hex is compared case-insensitively and in
// constant time, the whole value: a near miss or a prefix is refused. It returns nil or an error wrapping
// ErrMissingHeader, ErrBodyMD5, ErrChecksum, ErrStale or ErrAppKeyMismatch.
func VerifyNetease(appKey, secret string, h http.Header, body []byte, now time.Time, window time.Duration) error {
	_, err := VerifyNeteaseSecrets(appKey, []string{secret}, h, body, now, window)
	return err
}

// VerifyNeteaseSecrets is VerifyNetease with the secrets valid for the app during a rotation (current
// first, then the previous one): the CheckSum may be made with any of them. It returns the index of
// the secret that matched, and the same errors as VerifyNetease. Every secret is tried, so the time
// taken does not say which one matched.
func VerifyNeteaseSecrets(appKey string, secrets []string, h http.Header, body []byte, now time.Time, window time.Duration) (int, error) {
	matched, err := VerifyNeteaseHeaders(appKey, secrets, h, now, window)
	if err != nil {
		return -1, err
	}
	if err := VerifyNeteaseBody(h, body); err != nil {
		return -1, err
	}
	return matched, nil
}

// VerifyNeteaseHeaders is the part of VerifyNeteaseSecrets that needs no body: the headers are there,
// AppKey (when sent) is the path's, CheckSum = SHA1(AppSecret + MD5 + CurTime) with the MD5 header as
// sent, and CurTime is fresh. The receiver checks this before it reads a body, so that a request
// without a valid CheckSum costs no body read; VerifyNeteaseBody then ties the body to the MD5 header.
func VerifyNeteaseHeaders(appKey string, secrets []string, h http.Header, now time.Time, window time.Duration) (int, error) {
	curTime, sentMD5, checkSum := h.Get("CurTime"), h.Get("MD5"), h.Get("CheckSum")
	var missing []string
	for _, name := range []string{"CurTime", "MD5", "CheckSum"} {
		if h.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return -1, fmt.Errorf("%w: %s", ErrMissingHeader, strings.Join(missing, ", "))
	}
	if k := h.Get("AppKey"); k != "" && k != appKey {
		return -1, ErrAppKeyMismatch
	}
	// CheckSum is SHA1(AppSecret + MD5 + CurTime) over the MD5 header exactly as sent: a platform that
	// sends upper-case hex signs upper-case hex. A CheckSum over the lower-case form is accepted too (the
	// manual's examples are lower-case, and a sender may sign its lower-case digest and print it
	// upper-case); both need the secret, so accepting both does not weaken the check.
	forms := []string{sentMD5}
	if lower := strings.ToLower(sentMD5); lower != sentMD5 {
		forms = append(forms, lower)
	}
	matched := -1
	for i, secret := range secrets {
		for _, form := range forms {
			if hexEqual(neteaseCheckSum(secret, form, curTime), checkSum) && matched < 0 {
				matched = i
			}
		}
	}
	if matched < 0 {
		return -1, ErrChecksum
	}
	ms, err := strconv.ParseInt(strings.TrimSpace(curTime), 10, 64)
	if err != nil {
		return -1, fmt.Errorf("%w: CurTime %q is not a number", ErrStale, curTime)
	}
	skew := now.Sub(time.UnixMilli(ms))
	if skew > window || skew < -window {
		return -1, fmt.Errorf("%w: CurTime is %s away from now (window ±%s)", ErrStale, skew.Round(time.Second), window)
	}
	return matched, nil
}

// VerifyNeteaseBody checks that the MD5 header is the hex MD5 of body (ErrBodyMD5 otherwise).
func VerifyNeteaseBody(h http.Header, body []byte) error {
	sum := md5.Sum(body)
	if !hexEqual(hex.EncodeToString(sum[:]), h.Get("MD5")) {
		return ErrBodyMD5
	}
	return nil
}

// NeteaseCheckSum computes the MD5 and CheckSum headers for a body, as the platform does (lower-case
// hex); the load generator and the tests sign with it.
func NeteaseCheckSum(secret string, body []byte, curTime string) (bodyMD5, checkSum string) {
	sum := md5.Sum(body)
	bodyMD5 = hex.EncodeToString(sum[:])
	return bodyMD5, neteaseCheckSum(secret, bodyMD5, curTime)
}

// neteaseCheckSum is hex SHA1(secret + md5Header + curTime), the header taken as given.
func neteaseCheckSum(secret, md5Header, curTime string) string {
	sh := sha1.New()
	sh.Write([]byte(secret))
	sh.Write([]byte(md5Header))
	sh.Write([]byte(curTime))
	return hex.EncodeToString(sh.Sum(nil))
}

func hexEqual(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(strings.TrimSpace(got)))) == 1
}
