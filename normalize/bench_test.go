package normalize_test

import (
	"testing"

	"github.com/imarchive/imarchive/normalize"
)

func BenchmarkNormalize(b *testing.B) {
	for _, c := range []struct {
		name, file string
		fn         normalize.Func
	}{
		{"netease_48_message", "testdata/netease/48_message.json", normalize.Netease},
		{"netease_81_update", "testdata/netease/81_message_update.json", normalize.Netease},
		{"netease_53_invite", "testdata/netease/53_member_invite.json", normalize.Netease},
		{"ilink_text", "testdata/ilink/4.1_text.json", normalize.ILink},
		{"maxim_chat", "testdata/maxim/chat_text.json", normalize.Maxim},
	} {
		body := readFile(b, c.file)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.fn("app1", body, receivedAt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
