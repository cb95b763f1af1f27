package notify

import (
	"strings"

	"github.com/slack-go/slack"
)

// sectionLimit is Slack's limit on a section block's text.
const sectionLimit = 3000

// Blocks lays the message out in Block Kit: the headline in a section that
// carries the marker as its block_id, then the details in sections of at
// most sectionLimit characters.
func (m Message) Blocks() []slack.Block {
	blocks := []slack.Block{section(m.Headline, m.Marker)}
	var chunk []string
	size := 0
	flush := func() {
		if len(chunk) > 0 {
			blocks = append(blocks, section(strings.Join(chunk, "\n"), ""))
			chunk, size = nil, 0
		}
	}
	for _, line := range m.Details {
		if len(line) > sectionLimit {
			line = truncate(line, sectionLimit)
		}
		if size+len(line)+1 > sectionLimit {
			flush()
		}
		chunk = append(chunk, line)
		size += len(line) + 1
	}
	flush()
	return append(blocks, m.Actions...)
}

func section(text, blockID string) slack.Block {
	var opts []slack.SectionBlockOption
	if blockID != "" {
		opts = append(opts, slack.SectionBlockOptionBlockID(blockID))
	}
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil, opts...)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	const more = "…"
	if len(s) <= n {
		return s
	}
	cut := n - len(more)
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + more
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
