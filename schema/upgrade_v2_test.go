package schema

import (
	"testing"
	"time"
)

// TestUpgradeToEventV2: rows written by a version 1 consumer (before 0085) show the version 2 columns
// after the migration, read from the payload in attrs: reply and thread of a 48, inviter and no
// target for a 54, member type and inviter of a 61, channel type and view mode of a 63, role
// priorities of a 68 and a 79 (whose role ids then sort as numbers), and the inviter is an archive
// subject. The payloads are the manual's examples (002).
func TestUpgradeToEventV2(t *testing.T) {
	ctx, conn, log, _ := migratedBelow(t, 85)
	// What the version 1 pipeline wrote (its columns only).
	for _, q := range []string{
		`INSERT INTO messages_data (event_id, source, app, platform_type, op, conversation, msg_time, occurred_at, received_at,
			sender, server_id, channel_id, msg_id, msg_type, body, attrs, kafka_partition, kafka_offset) VALUES
			('m1', 'netease_qchat', 'app1', '48', 'send', 'channel:1492674/1394678', '2022-03-08 12:59:02.114', '2022-03-08 12:59:02.160',
			 '2022-03-08 12:59:03', 'yx', '1492674', '1394678', '1541874', 'TEXT', '回复',
			 map('replyMsgIdServer', '1541872', 'replyMsgIdClient', 'c72', 'replyMsgFromAccount', 'yx1', 'replyMsgTime', '1646744330021',
			     'threadMsgIdServer', '1541869', 'threadMsgTime', '1646744308787'), 0, 1)`,
		`INSERT INTO community_events_data (event_id, source, app, kind, op, platform_type, occurred_at, received_at, actor,
			server_id, channel_id, target_account, accounts, role_id, role_ids, name, attrs, kafka_partition, kafka_offset) VALUES
			('c54', 'netease_qchat', 'app1', 'member', 'accept_invite', '54', '2022-03-08 12:14:57.407', '2022-03-08 12:15:00', 'yx1',
			 '1492594', '', 'yx', ['yx'], '', [], '', map('inviteAccid', 'yx', 'accid', 'yx1', 'eventType', '54'), 0, 2),
			('c61', 'netease_qchat', 'app1', 'member', 'update_self', '61', '2022-03-11 07:49:46.130', '2022-03-11 07:49:47', 'wm1',
			 '1541477', '', 'wm1u', ['wm1u'], '', [], '', map('type', '1', 'inviter', 'wm1', 'memberAccid', 'wm1u'), 0, 3),
			('c63', 'netease_qchat', 'app1', 'channel', 'create', '63', '2022-03-08 12:19:52.447', '2022-03-08 12:19:53', 'yx',
			 '1492597', '1394628', '', [], '', [], 'channel_1492597', map('type', '0', 'viewmode', '1', 'name', 'channel_1492597'), 0, 4),
			('c68', 'netease_qchat', 'app1', 'role', 'create', '68', '2022-03-09 09:07:34.738', '2022-03-09 09:07:35', 'yx10',
			 '1508367', '', '', [], '1345348', [], 'yx10-server-identify', map('roleid', '1345348', 'priority', '3'), 0, 5),
			('c79', 'netease_qchat', 'app1', 'role', 'update_priority', '79', '2022-03-24 11:49:21.426', '2022-03-24 11:49:22', 'qaz',
			 '50783', '', '', [], '', ['10', '181785', '9'], '', map('roleIdPriority', '{"181785":2,"10":"3","9":1}'), 0, 6)`,
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Migrate(ctx, conn, log); err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		`SELECT concat(reply_to_msg_id, '|', reply_to_client_msg_id, '|', reply_to_sender, '|', toString(reply_to_msg_time), '|',
			thread_msg_id, '|', thread_client_msg_id, '|', toString(thread_msg_time)) FROM messages WHERE event_id = 'm1'`: "1541872|c72|yx1|2022-03-08 12:58:50.021|1541869||2022-03-08 12:58:28.787",
		`SELECT concat(inviter, '|', member_type, '|', channel_type, '|', channel_view_mode, '|', toString(role_priorities)) FROM community_events WHERE event_id = 'c61'`: "wm1|1|||{}",
		`SELECT concat(channel_type, '|', channel_view_mode) FROM community_events WHERE event_id = 'c63'`:                                                                 "0|1",
		`SELECT toString(role_priorities) FROM community_events WHERE event_id = 'c68'`:                                                                                    "{'1345348':3}",
		`SELECT toString(arraySort(mapKeys(role_priorities))) || toString(arraySort(mapValues(role_priorities))) FROM community_events WHERE event_id = 'c79'`:             "['10','181785','9'][1,2,3]",
		`SELECT role_priorities['10'] FROM community_events WHERE event_id = 'c79'`:                                                                                        "3",
		`SELECT count() FROM archive_subjects WHERE event_id = 'c54' AND subject_kind = 'account' AND subject = 'yx'`:                                                      "1",
	}
	for q, want := range checks {
		var got string
		if err := conn.QueryRow(ctx, "SELECT toString(("+q+"))").Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("%s\n got %q\nwant %q", q, got, want)
		}
	}
	// The two fixes of version 1 rows are mutations, which finish in the background.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got string
		err := conn.QueryRow(ctx, `SELECT concat(
			(SELECT concat(inviter, '|', target_account, '|', toString(accounts)) FROM community_events WHERE event_id = 'c54'), '#',
			(SELECT toString(role_ids) FROM community_events WHERE event_id = 'c79'))`).Scan(&got)
		if err != nil {
			t.Fatal(err)
		}
		const want = "yx||[]#['9','10','181785']"
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("54 and 79 rows after the migration: %q, want %q", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
