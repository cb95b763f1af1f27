package daemon

import (
	"context"

	"github.com/sekisho-dev/sekisho/slackact"
)

// SlackWork is the leader's part of SPEC §20: the follow-ups of open
// incidents (escalations, passed ETAs) written to the outbox on time, and
// the Socket Mode connection that receives button clicks. Both read the
// config in force, so a reload that turns Socket Mode on or off, or
// changes escalate_after, takes effect without a restart. Clicks over HTTP
// (POST /slack/interactions) are served by every replica.
func (d *Daemon) SlackWork() []func(term context.Context) error {
	follow := &slackact.FollowUpRunner{Store: d.o.Store, Config: d.cfg.Load, Clock: d.o.Clock, Logger: d.o.Logger,
		Kick: d.sender.Kick}
	socket := &slackact.SocketRunner{Config: d.cfg.Load, Service: d.slack, Logger: d.o.Logger}
	return []func(term context.Context) error{follow.Run, socket.Run}
}

// Slack is the service that carries out clicks on sekisho's buttons.
func (d *Daemon) Slack() *slackact.Service { return d.slack }
