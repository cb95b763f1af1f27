package budget

import (
	"context"

	"github.com/aws/smithy-go/middleware"
)

// AWSStep is an aws-sdk-go-v2 APIOptions entry that takes a slot of b
// before every attempt of every call (Glue, the Redshift Data API). It
// sits in the SDK's finalize step after the retry step, so each retry
// draws from the budget too; a middleware rather than a wrapped HTTP
// client keeps the SDK's own client, which a custom CA bundle
// (AWS_CA_BUNDLE) needs.
func AWSStep(b *Budget) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("SekishoRequestBudget",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := b.Wait(ctx); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}
