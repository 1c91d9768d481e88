// Package sip is the hotline's built-in telephone engine: a SIP registrar
// for the agents' phones and a back-to-back user agent that answers
// citizens' calls, plays the greeting, queues them with comfort messages
// and their position, rings the agent chosen by the call centre's ACD,
// bridges and records the call, and asks the satisfaction question when
// the agent hangs up. It speaks SIP over UDP and TCP with emiago/sipgo and
// carries G.711 audio and RFC 2833 DTMF with emiago/diago.
//
// Decisions (who to ring, agent states, records, call-backs, overload)
// belong to package callcenter; this package only carries them out and
// reports what happened as CTI events through callcenter.Service.Record —
// the same path an external PBX uses — so the records do not depend on
// which phone system carried the call.
//
// One call is one goroutine running the call's script (call.run), plus one
// goroutine reading the caller's audio (DTMF detection, forwarding to the
// agent, recording), one forwarding the audio of each party on the agent
// side (the agent; during an attended transfer or a three-way call the
// second or third party too), one playing prompts while queued or on hold,
// and during a three-way call one mixer output per participant (see
// mixer). All of them end with the call; Serve
// returns only after every call has ended and every goroutine has exited.
//
// Capacity: audio is relayed and recorded in user space (no transcoding,
// G.711 both legs), about 50 packets/s per direction per leg. On one core
// a node carries several hundred simultaneous calls (see the README of
// this package for the measured figures and the sipp command). Several
// nodes share load behind a SIP proxy (Kamailio/OpenSIPS dispatcher, or
// the carrier's trunk group) that spreads INVITEs by Call-ID hash; agents
// register through the same proxy with Path/sticky routing to one node,
// and all nodes share the one database for records, accounts and
// call-back tasks. The ACD is per node, so a node routes only to agents
// registered with it; size each node's agent group accordingly.
package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"

	"github.com/hotline12345/hotline/callcenter"
)

// MenuItem maps a key pressed after the greeting to a queue. GB/T 33358
// advises against menus; when one exists its keys should run from 1.
type MenuItem struct {
	Key   rune
	Queue string
}

// Config configures the engine. Zero values give the documented defaults.
type Config struct {
	// PromptsDir overrides prompts by file name (see prompts/gen.sh); empty
	// uses the embedded Mandarin defaults.
	PromptsDir string
	// Menu after the greeting (default none: straight to the queue).
	Menu []MenuItem
	// Bilingual plays the English greeting (and menu) after the Chinese.
	Bilingual bool
	// MenuTimeout waits for a menu key (default 5 s; then the first item).
	MenuTimeout time.Duration
	// HoldRepeats is how many times hold music plays between position
	// announcements in the queue (default 3, about 9 s).
	HoldRepeats int
	// SatisfactionTimeout waits for the 1–5 key after the question
	// (default 8 s).
	SatisfactionTimeout time.Duration
	// MaxCalls refuses new calls with 503 above this many (default 1000).
	MaxCalls int
	// RTPPortMin/Max bound the media ports (default: any free port).
	RTPPortMin, RTPPortMax int
	// Trunk is host:port of the gateway or proxy that reaches outside
	// numbers (transfers to 12333 and the like); empty: no outside transfers.
	Trunk string
	// NoRecording turns call recording off.
	NoRecording bool
	// Logger (default: the service's).
	Logger *slog.Logger
}

// Engine is the SIP engine of one node.
type Engine struct {
	cfg     Config
	svc     *callcenter.Service
	reg     *registrar
	prompts map[string][]byte
	log     *slog.Logger

	dg     *diago.Diago
	events chan callcenter.Event // to the batching writer
	ready  chan struct{}
	calls  sync.WaitGroup
	active atomic.Int64
	total  atomic.Int64
}

// New builds the engine; prompts are loaded and checked now.
func New(cfg Config, svc *callcenter.Service) (*Engine, error) {
	if cfg.MenuTimeout <= 0 {
		cfg.MenuTimeout = 5 * time.Second
	}
	if cfg.HoldRepeats <= 0 {
		cfg.HoldRepeats = 3
	}
	if cfg.SatisfactionTimeout <= 0 {
		cfg.SatisfactionTimeout = 8 * time.Second
	}
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = svc.Options().Logger
	}
	p, err := loadPrompts(cfg.PromptsDir)
	if err != nil {
		return nil, err
	}
	queues := map[string]bool{}
	for _, q := range svc.Options().Queues {
		queues[q.Name] = true
	}
	for _, m := range cfg.Menu {
		if !queues[m.Queue] {
			return nil, fmt.Errorf("menu key %c: no queue %q", m.Key, m.Queue)
		}
	}
	return &Engine{cfg: cfg, svc: svc, reg: newRegistrar(svc), prompts: p, log: cfg.Logger, ready: make(chan struct{}),
		events: make(chan callcenter.Event, 20000)}, nil
}

// Ready is closed once Serve listens.
func (e *Engine) Ready() <-chan struct{} { return e.ready }

// ActiveCalls is the number of calls in progress.
func (e *Engine) ActiveCalls() int { return int(e.active.Load()) }

// Serve answers SIP on addr (host:port) over UDP and TCP until ctx ends,
// then hangs up every call and returns when all have finished.
func (e *Engine) Serve(ctx context.Context, addr string) error {
	host, portS, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portS)
	if err != nil {
		return fmt.Errorf("port: %w", err)
	}
	if e.cfg.RTPPortMin > 0 && e.cfg.RTPPortMax > e.cfg.RTPPortMin {
		media.RTPPortStart, media.RTPPortEnd = e.cfg.RTPPortMin, e.cfg.RTPPortMax
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("hotline-12345"))
	if err != nil {
		return err
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(e.log))
	if err != nil {
		return err
	}
	srv.OnRegister(e.reg.handle)
	defer e.reg.close()
	e.dg = diago.NewDiago(ua,
		diago.WithServer(srv),
		diago.WithLogger(e.log),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: host, BindPort: port}),
		diago.WithTransport(diago.Transport{Transport: "tcp", BindHost: host, BindPort: port}),
	)
	writerDone := make(chan struct{})
	go e.writer(writerDone)
	defer func() { close(e.events); <-writerDone }() // after every call has ended
	callsCtx, hangupAll := context.WithCancel(context.Background())
	defer hangupAll()
	listenCtx, stopListen := context.WithCancel(ctx)
	defer stopListen()
	if err := e.dg.ServeBackground(listenCtx, func(in *diago.DialogServerSession) { e.handle(callsCtx, in) }); err != nil {
		return err
	}
	e.log.Info("sip engine listening", "addr", addr, "transports", "udp,tcp")
	close(e.ready)
	<-ctx.Done()
	// Stop taking calls, end the ones in progress, wait for them.
	stopListen()
	hangupAll()
	done := make(chan struct{})
	go func() { e.calls.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return errors.New("sip: calls still running 30 s after shutdown")
	}
	return nil
}

// writer stores the calls' events in batches: one transaction for all the
// events that arrived while the previous one was written, so a busy node
// does a few commits a second instead of one per event. Order is kept.
func (e *Engine) writer(done chan<- struct{}) {
	defer close(done)
	batch := make([]callcenter.Event, 0, 512)
	for ev := range e.events {
		batch = append(batch[:0], ev)
	more:
		for len(batch) < cap(batch) {
			select {
			case ev, ok := <-e.events:
				if !ok {
					break more
				}
				batch = append(batch, ev)
			default:
				break more
			}
		}
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			errs, err := e.svc.RecordBatch(ctx, batch)
			cancel()
			if err == nil {
				for i, err := range errs {
					if err != nil {
						e.log.Warn("call event refused", "call", batch[i].CallID, "type", batch[i].Type, "err", err)
					}
				}
				break
			}
			if attempt == 2 {
				e.log.Error("call events lost", "events", len(batch), "err", err)
				break
			}
			time.Sleep(time.Second)
		}
	}
}

// handle runs one inbound call.
func (e *Engine) handle(ctx context.Context, in *diago.DialogServerSession) {
	if ctx.Err() != nil {
		_ = in.Respond(503, "Service Unavailable", nil)
		return
	}
	e.calls.Add(1)
	defer e.calls.Done()
	if n := e.active.Add(1); n > int64(e.cfg.MaxCalls) {
		e.active.Add(-1)
		_ = in.Respond(503, "Service Unavailable", nil)
		return
	}
	defer e.active.Add(-1)
	e.total.Add(1)
	c := newCall(e, in)
	c.run(ctx)
}
