package maxim

import (
	"errors"
	"fmt"
)

// Code is a business code in a Maxim answer body. 200 is success; the others are the manual's error
// table (server API appendix, 10000–40000). They arrive with HTTP status 200.
type Code int

// CodeOK is success.
const CodeOK Code = 200

// The manual's codes the connector acts on.
const (
	CodeUserNotExist     Code = 10000
	CodeBadParams        Code = 10002
	CodeMissingToken     Code = 10003
	CodeInvalidToken     Code = 10008
	CodeNoPermission     Code = 10010
	CodeServerDB         Code = 20000
	CodeGroupNotExist    Code = 20001
	CodeNotGroupMember   Code = 20002
	CodeRecoveryMode     Code = 20006
	CodeMemberPermission Code = 20011
	CodeAdminPermission  Code = 20012
	CodeOwnerPermission  Code = 20013
	CodeLicenseInvalid   Code = 30021
	CodeLicenseExpired   Code = 30022
	CodeLicenseLimit     Code = 30023
	CodeAppIDNotExist    Code = 40000
	codeRangeDescription      = "10000–40000"
)

type codeInfo struct {
	manual string // the manual's words
	sdk    string // the client SDK's error name (manual 003), where one matches
	en     string // English
}

var codes = map[Code]codeInfo{
	10000: {"用户不存在", "UserNotExist", "the user does not exist"},
	10001: {"验证码不正确", "InvalidVerificationCode", "wrong verification code"},
	10002: {"请求参数不正确", "InvalidRequestParameter", "invalid request parameters"},
	10003: {"header中缺少access-token参数", "MissingAccessToken", "the access-token header is missing"},
	10004: {"用户已存在", "UserAlreadyExist", "the user already exists"},
	10005: {"用户已在好友列表", "CurrentUserIsInRoster", "the user is already in the roster"},
	10006: {"用户在黑名单列表", "CurrentUserIsInBlocklist", "the user is in the block list"},
	10007: {"好友申请不存在或已过期", "AnswerFailed", "the friend request does not exist or has expired"},
	10008: {"header中access-token无效", "InvalidToken", "the access-token is invalid or expired"},
	10009: {"oss异常", "", "object storage (OSS) failure"},
	10010: {"用户无权限", "UserPermissionDenied", "the user has no permission"},
	10011: {"user_id已绑定", "", "the user_id is already bound"},
	10012: {"用户拒绝好友申请", "RosterRejectApplication", "the user rejected the friend request"},
	20000: {"服务器数据库异常", "GroupServerDbError", "server database failure"},
	20001: {"群组不存在", "GroupNotExist", "the group does not exist"},
	20002: {"用户不是群成员", "GroupNotMemberFound", "the user is not a group member"},
	20003: {"msg_push_mode值不合法", "GroupMsgNotifyTypeUnknown", "invalid msg_push_mode"},
	20004: {"群主不能直接离开群", "GroupOwnerCannotLeave", "the owner cannot leave the group"},
	20005: {"转让群异常:被转让人非群成员", "GroupTransferNotAllowed", "transfer failed: the new owner is not a member"},
	20006: {"群组处于修复模式", "GroupRecoveryMode", "the group is in recovery mode"},
	20007: {"App群数量超限", "GroupExceedLimitGlobal", "the app's group count limit is exceeded"},
	20008: {"用户创建的群数量超限", "GroupExceedLimitUserCreate", "the user's created-group limit is exceeded"},
	20009: {"用户加入的群数量超限", "GroupExceedLimitUserJoin", "the user's joined-group limit is exceeded"},
	20010: {"群人数超限", "GroupCapacityExceedLimit", "the group's member limit is exceeded"},
	20011: {"操作需要群成员权限", "GroupMemberPermissionRequired", "needs group member permission"},
	20012: {"操作需要群管理员权限", "GroupAdminPermissionRequired", "needs group admin permission"},
	20013: {"操作需要群主权限", "GroupOwnerPermissionRequired", "needs group owner permission"},
	20014: {"入群申请已过期或已处理", "GroupApplicationExpiredOrHandled", "the join request has expired or was handled"},
	20015: {"入群邀请已过期或已处理", "GroupInvitationExpiredOrHandled", "the invitation has expired or was handled"},
	20016: {"用户被踢出群次数超限,不能再加入群", "GroupKickTooManyTimes", "the user was kicked too many times and cannot rejoin"},
	20017: {"用户已经是群成员", "GroupMemberExist", "the user is already a member"},
	20018: {"用户在群黑名单列表", "GroupBlockListExist", "the user is in the group's block list"},
	20020: {"群公告不存在", "GroupAnnouncementNotFound", "the group announcement does not exist"},
	20021: {"群公告被管理员禁用", "GroupAnnouncementForbidden", "the group announcement was disabled by an admin"},
	20022: {"群共享文件不存在", "GroupSharedFileNotFound", "the shared file does not exist"},
	20023: {"无权限操作群共享文件", "GroupSharedFileOperateNotAllowed", "no permission on the shared file"},
	20024: {"群邀请二维码不合法", "", "invalid group invitation QR code"},
	20025: {"群邀请二维码已过期", "", "the group invitation QR code has expired"},
	30021: {"License无效", "ServerInvalidLicense", "invalid license"},
	30022: {"License已过期", "ServerInvalidLicense", "the license has expired"},
	30023: {"超出 License限制", "ServerLicenseLimit", "the license limit is exceeded"},
	40000: {"app_id不存在", "", "the app_id does not exist"},
}

// Codes returns every code of the manual's table, in order.
func Codes() []Code {
	var out []Code
	for c := Code(10000); c <= 40000; c++ {
		if _, ok := codes[c]; ok {
			out = append(out, c)
		}
	}
	return out
}

// Meaning says what a code means: the manual's words, the SDK's name where one matches, English.
func (c Code) Meaning() string {
	info, ok := codes[c]
	if !ok {
		return fmt.Sprintf("not a code of the manual (its table lists %s)", codeRangeDescription)
	}
	if info.sdk != "" {
		return fmt.Sprintf("%s, %s: %s", info.manual, info.sdk, info.en)
	}
	return fmt.Sprintf("%s: %s", info.manual, info.en)
}

// Hint says what to do about a code, or "".
func (c Code) Hint() string {
	switch c {
	case CodeMissingToken, CodeInvalidToken:
		return "generate an access-token in the console's Token management page and set --access-token or --access-token-file (a file is read again when the platform refuses the token)"
	case CodeAppIDNotExist:
		return "check --app-id (IMARCHIVE_MAXIM_APP_ID) and --api-url (the app's api_endpoint)"
	case CodeLicenseInvalid, CodeLicenseExpired, CodeLicenseLimit:
		return "the deployment's license: ask the platform's operator"
	case CodeNotGroupMember, CodeMemberPermission, CodeAdminPermission, CodeOwnerPermission, CodeNoPermission:
		return "member_list acts as a user (the user_id header): give the group's owner as GROUP:USER in --groups, or a --user-id that is in the group"
	case CodeServerDB, CodeRecoveryMode:
		return "retried with backoff; a platform-side condition"
	}
	return ""
}

// Retryable: a platform-side condition that may pass (database failure, group in recovery mode).
func (c Code) Retryable() bool { return c == CodeServerDB || c == CodeRecoveryMode }

// Categories of API errors, for errors.Is.
var (
	ErrAuth          = errors.New("maxim: credentials refused")      // 10003, 10008, 40000
	ErrLicense       = errors.New("maxim: license")                  // 30021–30023
	ErrUserNotFound  = errors.New("maxim: user does not exist")      // 10000
	ErrGroupNotFound = errors.New("maxim: group does not exist")     // 20001
	ErrPermission    = errors.New("maxim: not allowed")              // 10010, 20002, 20011–20013
	ErrUnavailable   = errors.New("maxim: platform unavailable")     // 20000, 20006
	ErrBadRequest    = errors.New("maxim: invalid request")          // 10002
	ErrRejected      = errors.New("maxim: request rejected")         // every other code
	ErrBadAnswer     = errors.New("maxim: answer not as the manual") // not JSON, no code, wrong types
)

// APIError is a business error code in a Maxim answer.
type APIError struct {
	Op      string // "GET /group/member_list group 2306414607729"
	Code    Code
	Message string // the platform's own message, if it sent one
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("maxim %s: code %d (%s)", e.Op, int(e.Code), e.Code.Meaning())
	if e.Message != "" {
		msg += fmt.Sprintf(": %q", e.Message)
	}
	return msg
}

// Retryable says whether the call may pass after a backoff.
func (e *APIError) Retryable() bool { return e.Code.Retryable() }

// Is maps the code to its category.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAuth:
		return e.Code == CodeMissingToken || e.Code == CodeInvalidToken || e.Code == CodeAppIDNotExist
	case ErrLicense:
		return e.Code >= CodeLicenseInvalid && e.Code <= CodeLicenseLimit
	case ErrUserNotFound:
		return e.Code == CodeUserNotExist
	case ErrGroupNotFound:
		return e.Code == CodeGroupNotExist
	case ErrPermission:
		return e.Code.permission()
	case ErrUnavailable:
		return e.Code.Retryable()
	case ErrBadRequest:
		return e.Code == CodeBadParams
	case ErrRejected:
		return !e.Code.categorized()
	}
	return false
}

func (c Code) permission() bool {
	switch c {
	case CodeNoPermission, CodeNotGroupMember, CodeMemberPermission, CodeAdminPermission, CodeOwnerPermission:
		return true
	}
	return false
}

func (c Code) categorized() bool {
	return c == CodeMissingToken || c == CodeInvalidToken || c == CodeAppIDNotExist ||
		(c >= CodeLicenseInvalid && c <= CodeLicenseLimit) || c == CodeUserNotExist || c == CodeGroupNotExist ||
		c.permission() || c.Retryable() || c == CodeBadParams
}
