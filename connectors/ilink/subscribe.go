package ilink

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Action types of the subscription calls.
//
// §5.11 (ham_user, subscribe to users' online/offline status) gives two: its table says "订阅用户状态(2)",
// its example JSON sends "action_type": 7. SubscribeUsers sends the table's 2 and, only when the
// platform answers 1012 (无效的操作, invalid operation), the example's 7, and says which one it took.
// §5.13 (ham_topic, subscribe to a topic) is "主题相关(1)".
const (
	ActionSubscribeUsers        = 2 // ham_user, §5.11's table
	ActionSubscribeUsersExample = 7 // ham_user, §5.11's example
	ActionTopic                 = 1 // ham_topic, §5.13
)

// MaxQoS is the highest topic QoS level: "Qos 级别: (0-2)" (§5.13).
const MaxQoS = 2

// ErrBadSubscription is a subscription request that cannot be sent as the manual describes it (no
// UIDs, a subject with # or +, a QoS outside 0–2); nothing was sent.
var ErrBadSubscription = errors.New("ilink: subscription request not as the manual")

type userSubscription struct {
	SendUID    string   `json:"send_uid"`
	ActionType int      `json:"action_type"`
	UIDList    []string `json:"uid_list"`
	Type       int      `json:"type"` // 1 subscribe, 0 cancel
}

type topicSubscription struct {
	SendUID    string `json:"send_uid"`
	ActionType int    `json:"action_type"`
	Subject    string `json:"subject"`
	QoS        *int   `json:"qos,omitempty"` // "取消订阅时不需要 qos"
	Type       int    `json:"type"`          // 1 subscribe, 0 cancel
}

// Subscription is what a subscription call did.
type Subscription struct {
	Answer     Answer
	ActionType int   // the action_type the platform accepted (or answered last)
	Refused    []int // action_types refused with 1012 before it
}

func subType(on bool) int {
	if on {
		return 1
	}
	return 0
}

// SubscribeUsers subscribes the UID to the online/offline status of uids (on) or cancels that (ham_user,
// §5.11, type 1 or 0). While subscribed, the platform pushes each change as a msg_type 4 status
// message (§4.3) to the registered callback: serve archives them as presence events. Without a
// subscription no status is ever pushed. UIDs are trimmed and deduplicated; none at all is
// ErrBadSubscription. A non-zero code is an *APIError (1011 超过最大订阅数目限制: too many
// subscriptions).
func (c *Client) SubscribeUsers(ctx context.Context, uids []string, on bool) (Subscription, error) {
	list := cleanUIDs(uids)
	if len(list) == 0 {
		return Subscription{}, fmt.Errorf("%w: no UIDs to (un)subscribe", ErrBadSubscription)
	}
	var sub Subscription
	for _, action := range []int{ActionSubscribeUsers, ActionSubscribeUsersExample} {
		sub.ActionType = action
		req := userSubscription{SendUID: c.cfg.UID, ActionType: action, UIDList: list, Type: subType(on)}
		ans, err := c.authedAnswer(ctx, fmt.Sprintf("ham_user action %d", action), "ham_user", req)
		sub.Answer = ans
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == CodeBadOperation && action == ActionSubscribeUsers {
			sub.Refused = append(sub.Refused, action)
			continue
		}
		return sub, err
	}
	return sub, nil // not reached
}

// SubscribeTopic subscribes the UID to topic subject with QoS qos (on), or cancels that (ham_topic
// action_type 1, §5.13; "取消订阅时不需要 qos": a cancel sends none). While subscribed, the platform
// pushes the topic's messages as msg_type 4 with group_id = the topic (§4.4). A subject with # or +
// ("主题请遵循不能有#+字符"), an empty one, or a QoS outside 0–2 is ErrBadSubscription, not sent.
func (c *Client) SubscribeTopic(ctx context.Context, subject string, qos int, on bool) (Subscription, error) {
	if err := ValidTopic(subject); err != nil {
		return Subscription{}, err
	}
	req := topicSubscription{SendUID: c.cfg.UID, ActionType: ActionTopic, Subject: subject, Type: subType(on)}
	if on {
		if qos < 0 || qos > MaxQoS {
			return Subscription{}, fmt.Errorf("%w: QoS %d: the manual allows 0–%d", ErrBadSubscription, qos, MaxQoS)
		}
		req.QoS = &qos
	}
	ans, err := c.authedAnswer(ctx, "ham_topic action 1", "ham_topic", req)
	return Subscription{Answer: ans, ActionType: ActionTopic}, err
}

// ValidTopic checks a topic subject as §5.13 asks: not empty, without # or +.
func ValidTopic(subject string) error {
	switch {
	case strings.TrimSpace(subject) == "":
		return fmt.Errorf("%w: empty topic", ErrBadSubscription)
	case strings.ContainsAny(subject, "#+"):
		return fmt.Errorf("%w: topic %q: the manual forbids # and + (主题请遵循不能有#+字符)", ErrBadSubscription, subject)
	}
	return nil
}

func cleanUIDs(uids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range uids {
		u = strings.TrimSpace(u)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		out = append(out, u)
	}
	return out
}
