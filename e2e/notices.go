package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/notify"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
)

// markerPrefix starts the block_id that carries a notice's dedupe key.
const markerPrefix = "sekisho:"

// CheckNoticesOnce matches the Slack double's messages to the outbox: every
// notice that was not filtered, silenced or grouped was sent and sits in exactly one message
// (found by the dedupe key in its block_id or metadata), and no message
// carries a key the outbox does not know.
func CheckNoticesOnce(ns []sekisho.Notice, msgs []slacksim.Message) []string {
	var bad []string
	seen := map[string]int{}
	for _, m := range msgs {
		for k := range messageKeys(m) {
			seen[k]++
		}
	}
	known := map[string]bool{}
	for _, n := range ns {
		known[n.DedupeKey] = true
		if notify.NotPosted(n.Text) {
			continue
		}
		switch {
		case n.SentAt.IsZero():
			bad = append(bad, fmt.Sprintf("notice %s (%s) never delivered after %d tries: %s", n.DedupeKey, n.Kind, n.Tries, n.LastError))
		case seen[n.DedupeKey] != 1:
			bad = append(bad, fmt.Sprintf("notice %s (%s) is in %d Slack messages", n.DedupeKey, n.Kind, seen[n.DedupeKey]))
		}
	}
	for k := range seen {
		if !known[k] {
			bad = append(bad, fmt.Sprintf("Slack holds a message for %s, which the outbox does not know", k))
		}
	}
	sort.Strings(bad)
	return bad
}

// messageKeys reads the dedupe keys a message carries.
func messageKeys(m slacksim.Message) map[string]bool {
	keys := map[string]bool{}
	var blocks []map[string]any
	if json.Unmarshal(m.Blocks, &blocks) == nil {
		for _, b := range blocks {
			if id, ok := b["block_id"].(string); ok && strings.HasPrefix(id, markerPrefix) {
				keys[strings.TrimPrefix(id, markerPrefix)] = true
			}
		}
	}
	var meta struct {
		EventPayload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal(m.Metadata, &meta) == nil {
		if k, ok := meta.EventPayload["dedupe_key"].(string); ok {
			keys[k] = true
		}
	}
	return keys
}

// CheckNoticeKeys proves every dedupe key in the outbox was built by
// sekisho.NoticeKey: each parses back (sekisho.ParseNoticeKey) to its
// notice's kind. A key built by hand elsewhere either fails to parse or
// would not be built again from what was read.
func CheckNoticeKeys(ns []sekisho.Notice) []string {
	var bad []string
	for _, n := range ns {
		kind, _, err := sekisho.ParseNoticeKey(n.DedupeKey)
		switch {
		case err != nil:
			bad = append(bad, err.Error())
		case kind != n.Kind:
			bad = append(bad, fmt.Sprintf("notice %d is %s but its key %q is a %s key", n.ID, n.Kind, n.DedupeKey, kind))
		}
	}
	return bad
}
