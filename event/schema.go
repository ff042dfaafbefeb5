package event

import _ "embed"

// JSONSchema is the JSON Schema (draft 2020-12) of the envelope this build writes, schema/v2.json
// (schema/v1.json, the previous version, stays beside it for readers of older records).
//
//go:embed schema/v2.json
var JSONSchema []byte

// Sources lists every Source value.
func Sources() []string { return []string{SourceNetease, SourceILink, SourceMaxim} }

// Kinds lists every Kind value.
func Kinds() []string {
	return []string{KindMessage, KindMessageUpdate, KindNotification, KindNotifyUpdate, KindPresence, KindServer,
		KindMember, KindChannel, KindRole, KindPermission, KindQuickComment, KindUnknown}
}

// Ops lists every Op value.
func Ops() []string {
	return []string{
		OpLogin, OpLogout, OpDropped, OpKickedMultiDevice, OpKickedBySDK, OpKickedByServer, OpReplaced, OpHeartbeat, OpOnline, OpOffline,
		OpSend, OpAppend, OpUpdate, OpRecall, OpDelete, OpCreate,
		OpInvite, OpAcceptInvite, OpRejectInvite, OpApply, OpAcceptApply, OpRejectApply, OpLeave, OpKick, OpUpdateSelf, OpUpdateOther,
		OpListAdd, OpListRemove, OpAddMembers, OpRemoveMembers, OpUpdatePriority, OpAdd, OpRemove,
	}
}
