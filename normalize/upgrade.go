package normalize

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/imarchive/imarchive/event"
)

// Upgrade brings an event of an older envelope version up to this build's (event.SchemaVersion), so
// that the consumer writes every event the same way whatever build produced it: events already on the
// events topic when serve is upgraded, or re-read later.
//
// Version 1 → 2 changed NetEase events only. The 54/55 inviter moves from target.account (where
// version 1 put inviteAccid) to inviter. The fields version 2 added (reply, thread, inviter of 61, 62,
// 76, target.member_type, channel_type, channel_view_mode, role_priorities, 47's actor_connection_id)
// and 79's numeric role order
// are taken from the event normalized again from its attrs, which
// keep every top-level field of the payload as text (the normalizer reads numbers, lists and objects
// from text as well). Everything else, the event_id above all, stays as it was: an event's identity
// never changes. An event of this version is left alone. An error (attrs that no longer normalize)
// leaves the event as it was.
func Upgrade(e *event.Event) error {
	if e.SchemaVersion >= event.SchemaVersion {
		return nil
	}
	if e.Source != event.SourceNetease {
		e.SchemaVersion = event.SchemaVersion
		return nil
	}
	body, err := json.Marshal(e.Attrs)
	if err != nil {
		return fmt.Errorf("upgrade event %s: %w", e.EventID, err)
	}
	n, err := Netease(e.App, body, time.UnixMilli(e.ReceivedAtMs))
	if err != nil {
		return fmt.Errorf("upgrade event %s from version %d: %w", e.EventID, e.SchemaVersion, err)
	}
	e.Reply, e.Thread, e.Inviter = n.Reply, n.Thread, n.Inviter
	e.ActorConnectionID = n.ActorConnectionID // 47: the consid, which version 1 kept in attrs only
	e.Target.MemberType, e.Target.ChannelType, e.Target.ChannelViewMode = n.Target.MemberType, n.Target.ChannelType, n.Target.ChannelViewMode
	e.Target.RolePriorities = n.Target.RolePriorities
	switch e.PlatformType {
	case "54", "55":
		// Version 1 put inviteAccid in target.account: that is the inviter.
		if e.Inviter == "" {
			e.Inviter = e.Target.Account
		}
		e.Target.Account, e.Target.Accounts = "", nil
	case "79":
		e.Target.Roles = n.Target.Roles
	}
	e.SchemaVersion = event.SchemaVersion
	return nil
}
