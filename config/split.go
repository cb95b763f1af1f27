package config

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"
)

// A pipelines file is mostly its pipelines: list, and yaml.v3 builds a
// document's whole node tree before anything reads it: about 7 KB of
// nodes per pipeline, 68 MB for 10,000 pipelines, which was the daemon's
// peak memory (issue 23). split cuts the list out of the text so the
// decoder reads one item at a time and lets each item's nodes go once the
// pipeline is decoded.
//
// The cut is made on the text, so it is taken only when the layout leaves
// no doubt where the list and its items are, and every doubt falls back to
// reading the whole document: the top level is a block mapping with
// `pipelines:` written plainly at column 1, alone on its line and once;
// the list is a block sequence whose items start with "-" at one
// indentation; there is one document. The file is then read as a stream of
// documents, the file without its list first and each item after it, by
// one parser: yaml.v3 keeps a stream's anchors across its documents, so an
// item's alias of an anchor in defaults: or in an earlier item resolves as
// it does in the whole file (an alias of an anchor that comes later in the
// file is refused, as the whole file refuses it). An item that does not
// read on its own (a quoted string or a flow collection cut at a line
// that looked like the next item) makes the decoder start again on the
// whole document, so the two ways always give the same config and the
// same errors (TestSplitMatchesWhole, FuzzSplitMatchesWhole).

// splitDoc is a pipelines file cut for reading item by item.
type splitDoc struct {
	// stream is the file with the list's lines blanked, so every line
	// keeps its number and `pipelines:` reads as null, then each item as
	// a document of its own.
	stream []byte
	// keyLine is the line of `pipelines:`.
	keyLine int
	// shifts has one entry an item: what the line numbers of its
	// document in stream add up to the file's.
	shifts []int
}

// split returns data cut for reading item by item, or nil when the
// layout is not one split can be sure of.
func split(data []byte) *splitDoc {
	lines := bytes.SplitAfter(data, []byte("\n"))
	key := -1
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("...")) || bytes.HasPrefix(l, []byte("%")) {
			return nil // directives or more than one document
		}
		if isPipelinesKey(l) {
			if key >= 0 {
				return nil // written twice: the whole parse reports it
			}
			key = i
		}
	}
	if key < 0 {
		return nil
	}
	// The list's items start at the indentation of its first line.
	indent := -1
	end := len(lines)
	var starts []int
	for i := key + 1; i < len(lines) && end == len(lines); i++ {
		l := lines[i]
		n, blank := leadingSpaces(l)
		if blank || l[n] == '#' {
			continue // a comment belongs to no item, wherever it is
		}
		if indent < 0 {
			if !isItemStart(l, n) {
				return nil // not a block sequence
			}
			indent = n
		}
		switch {
		case n == indent && isItemStart(l, n):
			starts = append(starts, i)
		case n == 0:
			end = i // the next top-level key
		case n <= indent:
			return nil // not a layout split knows
		}
	}
	if len(starts) == 0 {
		return nil
	}
	sp := &splitDoc{stream: make([]byte, 0, len(data)+4*len(starts)+1), keyLine: key + 1, shifts: make([]int, len(starts))}
	for i, l := range lines {
		if i > key && i < end {
			if bytes.HasSuffix(l, []byte("\n")) {
				l = l[len(l)-1:]
			} else {
				l = nil
			}
		}
		sp.stream = append(sp.stream, l...)
	}
	if !bytes.HasSuffix(sp.stream, []byte("\n")) {
		sp.stream = append(sp.stream, '\n')
	}
	// Each item runs to the line before the next one; the last to the end
	// of the list. Its document starts on the line after its "---".
	at := len(lines) + 1 // the stream's next line
	if len(lines[len(lines)-1]) == 0 {
		at-- // data ended with a newline: its last "line" is empty
	}
	for k, first := range starts {
		stop := end
		if k+1 < len(starts) {
			stop = starts[k+1]
		}
		sp.stream = append(sp.stream, "---\n"...)
		at++
		sp.shifts[k] = first + 1 - at
		for _, l := range lines[first:stop] {
			sp.stream = append(sp.stream, l...)
		}
		if !bytes.HasSuffix(sp.stream, []byte("\n")) {
			sp.stream = append(sp.stream, '\n')
		}
		at += stop - first
	}
	return sp
}

// isPipelinesKey reports whether l is `pipelines:` at column 1 with
// nothing after it but a comment.
func isPipelinesKey(l []byte) bool {
	after, ok := bytes.CutPrefix(l, []byte("pipelines:"))
	if !ok {
		return false
	}
	after = bytes.TrimLeft(after, " \t")
	return len(after) == 0 || after[0] == '#' || after[0] == '\n' || after[0] == '\r' && (len(after) == 1 || after[1] == '\n')
}

// leadingSpaces is the indentation of l, and whether l is blank.
func leadingSpaces(l []byte) (int, bool) {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	rest := bytes.TrimRight(l[n:], "\r\n")
	return n, len(rest) == 0
}

// isItemStart reports whether l, indented n, starts a block sequence item:
// "-" then a space or the end of the line.
func isItemStart(l []byte, n int) bool {
	if n >= len(l) || l[n] != '-' {
		return false
	}
	return n+1 == len(l) || l[n+1] == ' ' || l[n+1] == '\n' || l[n+1] == '\r'
}

// items are a split file's items as readItems parses them.
type items struct {
	nodes <-chan *yaml.Node
	// whole is set before nodes closes: every item read on its own and
	// nothing followed the last one. False: read the whole document.
	whole bool
}

// readItems parses the items of a split file in a goroutine of its own
// and hands each item's node over as it is read, so parsing the YAML of
// one item overlaps decoding the ones before: at 10,000 pipelines each
// half was ~0.4 s of the daemon's start-up on one core, the other idle
// (issue 23). The nodes of an item are not written once handed over, and
// the decoder only reads them, an alias's anchor in an earlier item
// included. The caller reads nodes until it closes; an item that does not
// read on its own ends it early, whole false.
func readItems(dec *yaml.Decoder, shifts []int) *items {
	nodes := make(chan *yaml.Node, 64)
	it := &items{nodes: nodes}
	go func() {
		defer close(nodes)
		for _, shift := range shifts {
			n, ok := itemNode(dec, shift)
			if !ok {
				return
			}
			nodes <- n
		}
		var extra yaml.Node
		it.whole = errors.Is(dec.Decode(&extra), io.EOF)
	}()
	return it
}

// itemNode reads the next item's document from dec and returns the item's
// node, with lines numbered as in the file; false when it does not read
// as one item on its own, or names an anchor the whole file would not
// have yet.
func itemNode(dec *yaml.Decoder, shift int) (*yaml.Node, bool) {
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, false
	}
	seq := doc.Content[0]
	if seq.Kind != yaml.SequenceNode || len(seq.Content) != 1 {
		return nil, false
	}
	item := seq.Content[0]
	renumber(item, shift)
	return item, aliasesBack(item)
}

// renumber moves n's subtree by lines. An alias is not followed: its
// anchor is in the subtree too, and is renumbered there once, or is
// outside it and numbered already.
func renumber(n *yaml.Node, lines int) {
	n.Line += lines
	for _, c := range n.Content {
		renumber(c, lines)
	}
}

// aliasesBack reports whether every alias under n names an anchor that
// comes before it in the file, as the whole file's reading requires.
func aliasesBack(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		a := n.Alias
		if a.Line > n.Line || a.Line == n.Line && a.Column >= n.Column {
			return false
		}
	}
	for _, c := range n.Content {
		if !aliasesBack(c) {
			return false
		}
	}
	return true
}
