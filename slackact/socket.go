package slackact

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sekisho-dev/sekisho/config"
)

// SocketRunner receives clicks over Slack's Socket Mode: a WebSocket that
// sekisho opens with the app-level token, so Slack needs no public URL to
// reach a daemon inside a VPC. Run it on the leader only (two replicas on
// one app would each get a share of the clicks, which is harmless but
// confusing in the logs). slack-go's client reconnects after a dropped
// socket or a "disconnect" request; when it gives up (a refused token),
// Run waits Backoff and starts again with the current config.
type SocketRunner struct {
	Config  func() *config.Config
	Service *Service
	Logger  *slog.Logger
	HTTP    *http.Client
	// Backoff is the wait before starting again after the client gave up
	// (default 30s).
	Backoff time.Duration
	// OnEvent, if set, sees every Socket Mode event (tests wait on it).
	OnEvent func(socketmode.EventType)
}

// Run keeps a Socket Mode connection open while the config asks for one,
// until ctx ends.
func (r *SocketRunner) Run(ctx context.Context) error {
	wait := r.Backoff
	if wait <= 0 {
		wait = 30 * time.Second
	}
	for ctx.Err() == nil {
		cfg := r.Config()
		if cfg.Slack.Interactivity == config.InteractivitySocketMode && cfg.Slack.AppToken != "" {
			err := r.connect(ctx, cfg)
			if ctx.Err() != nil {
				return nil
			}
			r.log().Warn("slack socket mode stopped; starting again", "error", errText(err), "in", wait.String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	return nil
}

func (r *SocketRunner) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// connect runs one Socket Mode client until it gives up or ctx ends.
func (r *SocketRunner) connect(ctx context.Context, cfg *config.Config) error {
	opts := []slack.Option{slack.OptionAppLevelToken(cfg.Slack.AppToken.Value())}
	if r.HTTP != nil {
		opts = append(opts, slack.OptionHTTPClient(r.HTTP))
	}
	if cfg.Slack.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(strings.TrimRight(cfg.Slack.APIURL, "/")+"/"))
	}
	client := socketmode.New(slack.New(cfg.Slack.Token.Value(), opts...))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-cctx.Done():
				return
			case ev := <-client.Events:
				r.event(cctx, client, ev)
			}
		}
	}()
	err := client.RunContext(cctx)
	cancel()
	<-done
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// event handles one Socket Mode event: an interactive envelope is carried
// out, then acknowledged. Handling first means a crash before the
// acknowledgement makes Slack deliver it again, which the action's key
// turns into nothing; the actions are single store writes, well inside
// Slack's 3 seconds.
func (r *SocketRunner) event(ctx context.Context, client *socketmode.Client, ev socketmode.Event) {
	switch ev.Type {
	case socketmode.EventTypeInteractive:
		if cb, ok := ev.Data.(slack.InteractionCallback); ok {
			r.Service.Handle(ctx, cb)
		}
		if ev.Request != nil {
			if err := client.AckCtx(ctx, ev.Request.EnvelopeID, nil); err != nil {
				r.log().Warn("slack socket mode: ack failed", "error", err.Error())
			}
		}
	case socketmode.EventTypeConnected:
		r.log().Info("slack socket mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth:
		r.log().Warn("slack socket mode: cannot connect", "event", string(ev.Type))
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand:
		// Not sekisho's: acknowledge so Slack does not retry it.
		if ev.Request != nil {
			client.AckCtx(ctx, ev.Request.EnvelopeID, nil)
		}
	}
	if r.OnEvent != nil {
		r.OnEvent(ev.Type)
	}
}
