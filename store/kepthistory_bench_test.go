package store

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkClaimKeep10k is what keeping the ETA histories of 10,000
// pipelines writes once their times are read (the first reader of a date):
// the claims, then the summaries, each a quiet write transaction.
func BenchmarkClaimKeep10k(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir()+"/s.db", Create())
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var ps, sums []string
	for i := range 10000 {
		ps = append(ps, fmt.Sprintf("p%05d", i))
		sums = append(sums, "1 30 3600000000000 1800000000000;30 1200000000000 600000000000 extract;30 1200000000000 600000000000 load")
	}
	b.ResetTimer()
	for range b.N {
		c, err := s.ClaimHistories(ctx, ps, "2026-11-12", 30)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.KeepHistories(ctx, c, "2026-11-12", 30, ps, sums); err != nil {
			b.Fatal(err)
		}
	}
}
