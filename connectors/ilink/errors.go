package ilink

import (
	"errors"
	"fmt"
)

// Code is an answer code of the iLink API (manual §6). 0 is success.
type Code int

// The codes of manual §6.
const (
	CodeOK                Code = 0
	CodeBadAppKey         Code = 1000
	CodeNoUID             Code = 1001
	CodeUIDElsewhere      Code = 1002
	CodeWrongIP           Code = 1003
	CodeSetConfigLimit    Code = 1004
	CodeBadCallbackURL    Code = 1005
	CodeCallbackRejected  Code = 1006
	CodeNotConfigured     Code = 1007
	CodeTokenInvalid      Code = 1008
	CodeTokenLimit        Code = 1009
	CodeBadParams         Code = 1010
	CodeSubscriptionLimit Code = 1011
	CodeBadOperation      Code = 1012
	CodeNoGroup           Code = 1013
	CodePermission        Code = 1014
	CodeNoToken           Code = 1015
	CodeNoIMService       Code = 1016
	CodeRPCFailed         Code = 1017
)

const manualCodesDescription = "1000–1017"

// Codes returns every code of the manual's table (§6), 0 first.
func Codes() []Code {
	out := []Code{CodeOK}
	for c := CodeBadAppKey; c <= CodeRPCFailed; c++ {
		out = append(out, c)
	}
	return out
}

type codeInfo struct {
	manual  string // the manual's words
	meaning string // what it means for us
	hint    string // what to do
}

var codes = map[Code]codeInfo{
	CodeOK:                {"正确返回", "success", ""},
	CodeBadAppKey:         {"AppKey 或是 SecretKey 不存在", "the appkey or the secretkey does not exist", "check --appkey and --secretkey (IMARCHIVE_ILINK_APPKEY, IMARCHIVE_ILINK_SECRETKEY)"},
	CodeNoUID:             {"UID 不存在", "the UID does not exist", "check --uid (IMARCHIVE_ILINK_UID)"},
	CodeUIDElsewhere:      {"UID 在其他终端登录", "the UID is logged in on another terminal", "use a UID reserved for the archive"},
	CodeWrongIP:           {"IP 地址错误,UID 不允许在不相同的 IP 上登录", "wrong IP address: the UID may not log in from a different IP", "call from the IP the UID is bound to"},
	CodeSetConfigLimit:    {"SetConfig 次数超限", "too many set_config calls", "wait before registering again; the manual asks not to call set_config often"},
	CodeBadCallbackURL:    {"Http 回调地址格式错误", "the callback URL is malformed", "give an absolute http:// or https:// URL"},
	CodeCallbackRejected:  {"Http 回调验证失败", "callback URL verification failed: the platform's GET handshake did not get its echostr back", "the callback URL must reach imarchive serve from the internet, and serve must know the same token"},
	CodeNotConfigured:     {"UID 没有 SetConfig", "the UID has no set_config (no callback registered)", "run imarchive ilink register first"},
	CodeTokenInvalid:      {"AccessToken 无效", "the access_token is invalid or expired", "a new one is fetched and the call retried"},
	CodeTokenLimit:        {"获取 AccessToken 次数超限", "too many get_access_token calls", "retried with backoff; the token is cached for its lifetime"},
	CodeBadParams:         {"无效的参数", "invalid parameters", ""},
	CodeSubscriptionLimit: {"超过最大订阅数目限制", "the subscription limit is exceeded", ""},
	CodeBadOperation:      {"无效的操作", "invalid operation (action_type)", ""},
	CodeNoGroup:           {"群不存在", "the group does not exist", ""},
	CodePermission:        {"权限限制", "permission denied", "the UID may not read this"},
	CodeNoToken:           {"uid 没有获取 access_token", "the UID has not obtained an access_token", "a new one is fetched and the call retried"},
	CodeNoIMService:       {"集群中没有可用的 IM 服务", "no IM service available in the platform's cluster", "retried with backoff; a platform-side outage"},
	CodeRPCFailed:         {"rpc:call fails", "an RPC call inside the platform failed", "retried with backoff; a platform-side failure"},
}

// Meaning says what a code means, in the manual's words and in English: "Http 回调验证失败: callback URL
// verification failed: …". An unknown code says so.
func (c Code) Meaning() string {
	if info, ok := codes[c]; ok {
		return info.manual + ": " + info.meaning
	}
	return fmt.Sprintf("not a code of the manual (§6 lists 0 and %s)", manualCodesDescription)
}

// Hint says what to do about a code, or "".
func (c Code) Hint() string { return codes[c].hint }

// Retryable: the codes that may pass on a retry after a backoff (rate limits and platform-side
// failures). The token codes (1008, 1015) are handled by fetching a new token, not by waiting.
func (c Code) Retryable() bool {
	return c == CodeTokenLimit || c == CodeNoIMService || c == CodeRPCFailed
}

// TokenProblem: the access_token was refused; fetch a new one and retry.
func (c Code) TokenProblem() bool { return c == CodeTokenInvalid || c == CodeNoToken }

// Categories of API errors, for errors.Is.
var (
	ErrCredentials      = errors.New("ilink: credentials refused")      // 1000, 1001
	ErrNotRegistered    = errors.New("ilink: no callback registered")   // 1007
	ErrCallbackRejected = errors.New("ilink: callback URL refused")     // 1005, 1006
	ErrToken            = errors.New("ilink: access_token refused")     // 1008, 1015
	ErrRateLimited      = errors.New("ilink: rate limited")             // 1004, 1009, 1011
	ErrGroupNotFound    = errors.New("ilink: group does not exist")     // 1013
	ErrPermission       = errors.New("ilink: permission denied")        // 1014
	ErrUnavailable      = errors.New("ilink: platform unavailable")     // 1016, 1017
	ErrRejected         = errors.New("ilink: request rejected")         // 1002, 1003, 1010, 1012, other codes
	ErrBadAnswer        = errors.New("ilink: answer not as the manual") // not JSON, no code, wrong types
)

// APIError is a non-zero code in an iLink answer.
type APIError struct {
	Op   string // "set_config register", "ham_group action 6"…
	Code Code
}

func (e *APIError) Error() string {
	return fmt.Sprintf("ilink %s: code %d (%s)", e.Op, int(e.Code), e.Code.Meaning())
}

// Retryable says whether the call may pass after a backoff.
func (e *APIError) Retryable() bool { return e.Code.Retryable() }

// Is maps the code to its category.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrCredentials:
		return e.Code == CodeBadAppKey || e.Code == CodeNoUID
	case ErrNotRegistered:
		return e.Code == CodeNotConfigured
	case ErrCallbackRejected:
		return e.Code == CodeBadCallbackURL || e.Code == CodeCallbackRejected
	case ErrToken:
		return e.Code.TokenProblem()
	case ErrRateLimited:
		return e.Code == CodeSetConfigLimit || e.Code == CodeTokenLimit || e.Code == CodeSubscriptionLimit
	case ErrGroupNotFound:
		return e.Code == CodeNoGroup
	case ErrPermission:
		return e.Code == CodePermission
	case ErrUnavailable:
		return e.Code == CodeNoIMService || e.Code == CodeRPCFailed
	case ErrRejected:
		switch e.Code {
		case CodeUIDElsewhere, CodeWrongIP, CodeBadParams, CodeBadOperation:
			return true
		}
		_, known := codes[e.Code]
		return !known
	}
	return false
}
