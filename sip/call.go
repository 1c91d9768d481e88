package sip

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	siplib "github.com/emiago/sipgo/sip"

	"github.com/hotline12345/hotline/callcenter"
)

// call is one inbound call and its script.
type call struct {
	e      *Engine
	svc    *callcenter.Service
	in     *diago.DialogServerSession
	id     string
	caller string

	dtmf chan rune // keys pressed by the caller (RFC 2833)

	sinkMu sync.Mutex
	sink   io.Writer // where the caller's audio goes (the agent), nil: nowhere

	toCaller io.Writer // the caller's audio writer (through the recorder), serialised

	readerDone chan struct{}
	rec        *diago.AudioStereoRecordingWav
	recFile    *os.File
	recName    string

	recorded atomic.Bool // offered was recorded
	ended    atomic.Bool // ended (or callback) was recorded
}

func newCall(e *Engine, in *diago.DialogServerSession) *call {
	id := in.InviteRequest.CallID().Value()
	if len(id) > 100 || strings.ContainsAny(id, "/\\") {
		h := sha1.Sum([]byte(id))
		id = hex.EncodeToString(h[:])
	}
	caller := "anonymous"
	if f := in.InviteRequest.From(); f != nil && f.Address.User != "" {
		caller = f.Address.User
	}
	if len(caller) > 40 {
		caller = caller[:40]
	}
	return &call{e: e, svc: e.svc, in: in, id: id, caller: caller, dtmf: make(chan rune, 8)}
}

// record hands an event to the engine's batching writer.
func (c *call) record(ev callcenter.Event) {
	ev.CallID = c.id
	if ev.At.IsZero() {
		ev.At = c.svc.Now()
	}
	c.e.events <- ev
}

// run is the call's script. Every path out of it leaves a complete record.
func (c *call) run(parent context.Context) {
	in := c.in
	arrived := c.svc.Now()
	_ = in.Trying()
	if err := in.Answer(); err != nil {
		// No usable SDP, or the caller gave up before the answer was
		// acknowledged: not a call we can record.
		c.e.log.Info("call not answered", "call", c.id, "caller", c.caller, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(in.Context())
	defer cancel()
	stop := context.AfterFunc(parent, cancel) // engine shutdown hangs up
	defer stop()

	c.startRecording(arrived)
	// Prompts and the bridged party both write to the caller; a hold or a
	// transfer switches between them, so writes are serialised.
	if w, err := in.AudioWriter(); err == nil {
		c.toCaller = &lockedWriter{w: w}
		in.SetAudioWriter(c.toCaller)
	}
	if err := c.startReader(); err != nil {
		c.e.log.Warn("media reader", "call", c.id, "err", err)
		c.finish(ctx, arrived)
		return
	}
	defer c.finish(ctx, arrived)

	// Greeting, and the menu if there is one.
	greet := []string{"greeting"}
	if c.e.cfg.Bilingual {
		greet = append(greet, "greeting_en")
	}
	c.play(ctx, nil, greet...)
	queue := callcenter.DefaultQueue
	if len(c.e.cfg.Menu) > 0 {
		queue = c.menu(ctx)
	} else if qs := c.svc.Options().Queues; len(qs) > 0 {
		queue = qs[0].Name
	}
	c.record(callcenter.Event{Type: callcenter.EvOffered, At: arrived, Caller: c.caller, Queue: queue,
		MenuSeconds: int(c.svc.Now().Sub(arrived) / time.Second)})
	c.recorded.Store(true)
	// A transfer to another queue brings the caller back here, in line
	// at her original arrival.
	for requeued := false; queue != "" && ctx.Err() == nil; requeued = true {
		queue = c.queue(ctx, queue, arrived, requeued)
	}
}

// finish ends the call: hang up if still up, stop the media, close the
// recording and attach it, and record the end if nothing else did.
func (c *call) finish(ctx context.Context, arrived time.Time) {
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = c.in.Hangup(hctx)
	cancel()
	_ = c.in.Close() // closes media: the reader returns
	if c.readerDone != nil {
		<-c.readerDone
	}
	if c.rec != nil {
		if err := c.rec.Close(); err != nil {
			c.e.log.Warn("recording", "call", c.id, "err", err)
		}
		_ = c.recFile.Close()
		if c.recorded.Load() {
			c.record(callcenter.Event{Type: callcenter.EvRecording, Recording: c.recName})
		} else {
			_ = os.Remove(c.recFile.Name())
		}
	}
	if c.recorded.Load() && !c.ended.Load() {
		c.record(callcenter.Event{Type: callcenter.EvEnded})
	}
}

// startRecording puts a stereo recorder (left: caller, right: what the
// caller hears — prompts and the agent) in the caller's audio path.
func (c *call) startRecording(at time.Time) {
	if c.e.cfg.NoRecording {
		return
	}
	name := filepath.ToSlash(filepath.Join(at.Format("2006/01/02"), c.id+".wav"))
	p := filepath.Join(c.svc.RecordingsDir(), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		c.e.log.Warn("recording dir", "err", err)
		return
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		c.e.log.Warn("recording file", "err", err)
		return
	}
	rec, err := c.in.AudioStereoRecordingCreate(f)
	if err != nil {
		f.Close()
		os.Remove(p)
		c.e.log.Warn("recording", "err", err)
		return
	}
	c.rec, c.recFile, c.recName = &rec, f, name
	c.in.SetAudioReader(rec.AudioReader())
	c.in.SetAudioWriter(rec.AudioWriter())
}

// startReader reads the caller's audio for the whole call: keys go to
// c.dtmf, audio to the sink (the agent while bridged).
func (c *call) startReader() error {
	r, err := c.in.AudioReaderDTMF()
	if err != nil {
		return err
	}
	r.OnDTMF(func(d rune) error {
		select {
		case c.dtmf <- d:
		default:
		}
		return nil
	})
	c.readerDone = make(chan struct{})
	go func() {
		defer close(c.readerDone)
		buf := make([]byte, media.RTPBufSize)
		for {
			n, err := r.Read(buf)
			if err != nil {
				return
			}
			if n < 40 { // a telephone-event payload, not audio
				continue
			}
			c.sinkMu.Lock()
			if c.sink != nil {
				if _, err := c.sink.Write(buf[:n]); err != nil {
					c.sink = nil
				}
			}
			c.sinkMu.Unlock()
		}
	}()
	return nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (c *call) setSink(w io.Writer) {
	c.sinkMu.Lock()
	c.sink = w
	c.sinkMu.Unlock()
}

// player plays a script of prompts to the caller until it ends or is
// stopped.
type player struct {
	stop func()
	done chan struct{}
}

func (p *player) Stop() {
	if p == nil {
		return
	}
	p.stop()
	<-p.done
}

// startPlayer plays next() prompt lists until next returns nil, ctx ends
// or Stop is called.
func (c *call) startPlayer(ctx context.Context, next func() []string) *player {
	pctx, cancel := context.WithCancel(ctx)
	p := &player{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for pctx.Err() == nil {
			names := next()
			if names == nil {
				return
			}
			c.play(pctx, nil, names...)
		}
	}()
	return p
}

// play plays prompts in order; it returns early when ctx ends or, if
// bargeIn is set, when the caller presses a key (the key is passed on to
// bargeIn). It reports whether all prompts played.
func (c *call) play(ctx context.Context, bargeIn chan<- rune, names ...string) bool {
	for _, n := range names {
		if ctx.Err() != nil {
			return false
		}
		pb, err := c.in.PlaybackControlCreate()
		if err != nil {
			return false
		}
		stopped := atomic.Bool{}
		stopOnCtx := context.AfterFunc(ctx, func() { stopped.Store(true); pb.Stop() })
		var keyDone chan struct{}
		if bargeIn != nil {
			keyDone = make(chan struct{})
			go func() {
				select {
				case d := <-c.dtmf:
					stopped.Store(true)
					pb.Stop()
					bargeIn <- d
				case <-keyDone:
				}
			}()
		}
		_, err = pb.Play(bytes.NewReader(c.e.prompts[n]), "audio/wav")
		stopOnCtx()
		if keyDone != nil {
			close(keyDone)
		}
		if err != nil || stopped.Load() {
			return false
		}
	}
	return true
}

// waitKey waits for a key within d.
func (c *call) waitKey(ctx context.Context, d time.Duration, pressed <-chan rune) (rune, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case k := <-pressed:
		return k, true
	case k := <-c.dtmf:
		return k, true
	case <-t.C:
	case <-ctx.Done():
	}
	return 0, false
}

// menu plays the menu and returns the chosen queue (the first item's when
// the caller presses nothing or a wrong key).
func (c *call) menu(ctx context.Context) string {
	items := c.e.cfg.Menu
	names := []string{"menu"}
	if c.e.cfg.Bilingual {
		names = append(names, "menu_en")
	}
	pressed := make(chan rune, 1)
	c.play(ctx, pressed, names...)
	k, ok := c.waitKey(ctx, c.e.cfg.MenuTimeout, pressed)
	if ok {
		for _, m := range items {
			if m.Key == k {
				return m.Queue
			}
		}
	}
	return items[0].Queue
}

type ringResult struct {
	agent  string
	dialog *diago.DialogClientSession
	err    error
}

// queue waits for an agent with comfort messages and position, offering a
// call-back under overload. A call an agent transferred here (requeued)
// hears the transfer prompt first and is not offered a call-back. It
// returns the next queue when the agent who answers transfers the call to
// one ("": the call is over).
func (c *call) queue(ctx context.Context, queue string, arrived time.Time, requeued bool) string {
	var tk *callcenter.Ticket
	var err error
	if requeued {
		tk, err = c.svc.Requeue(c.id, c.caller, queue, arrived)
	} else {
		tk, err = c.svc.Enqueue(c.id, c.caller, queue)
	}
	if err != nil {
		c.e.log.Warn("enqueue", "call", c.id, "err", err)
		return ""
	}
	defer c.svc.Leave(c.id)

	overloaded := !requeued && c.svc.Overloaded()
	cbAfter := c.svc.OverloadConfig().CallbackAfter
	var offered atomic.Bool
	first := true
	pl := c.startPlayer(ctx, func() []string {
		var names []string
		if first && overloaded {
			names = append(names, "overload") // the topical announcement first
		}
		if first && requeued {
			names = append(names, "transfer")
		}
		first = false
		if !requeued && (overloaded || c.svc.Overloaded()) && c.svc.Now().Sub(arrived) >= cbAfter {
			offered.Store(true)
			names = append(names, "callback_offer")
		}
		names = append(names, "queue_wait")
		if ahead := c.svc.Position(c.id) - 1; ahead > 0 {
			names = append(names, "queue_ahead")
			names = append(names, numberPrompts(ahead)...)
			names = append(names, "queue_people")
		}
		for i := 0; i < c.e.cfg.HoldRepeats; i++ {
			names = append(names, "hold")
		}
		return names
	})
	defer pl.Stop()

	results := make(chan ringResult, 1)
	var ringCancel context.CancelFunc
	ringing := false
	// waitRing ends a ring in progress and hangs up an agent who answered
	// just as the caller left.
	waitRing := func() {
		if !ringing {
			return
		}
		ringCancel()
		r := <-results
		ringing = false
		if r.dialog != nil {
			hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = r.dialog.Hangup(hctx)
			cancel()
			_ = r.dialog.Close()
		}
	}
	defer waitRing()

	for {
		select {
		case <-ctx.Done():
			return "" // finish records the end: abandoned, call-back task
		case as := <-tk.Offers:
			if ringing {
				c.svc.NoAnswer(c.id, as.Agent)
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, c.svc.Options().RingTimeout)
			ringCancel, ringing = cancel, true
			go func() { results <- c.ring(rctx, as.Agent) }()
		case r := <-results:
			ringing = false
			ringCancel()
			if r.err != nil {
				c.e.log.Info("agent did not answer", "call", c.id, "agent", r.agent, "err", r.err)
				c.svc.NoAnswer(c.id, r.agent)
				continue
			}
			pl.Stop()
			return c.talk(ctx, r.agent, r.dialog)
		case k := <-c.dtmf:
			if k == '1' && offered.Load() {
				waitRing()
				pl.Stop()
				c.record(callcenter.Event{Type: callcenter.EvCallback})
				c.ended.Store(true)
				c.play(ctx, nil, "callback_ok")
				return ""
			}
		}
	}
}

// ring calls the agent's registered phone and waits for the answer.
func (c *call) ring(ctx context.Context, agent string) ringResult {
	b := c.e.reg.lookupBinding(agent)
	if b == nil {
		return ringResult{agent: agent, err: errors.New("phone not registered")}
	}
	return c.ringURI(ctx, agent, b.contact)
}

// ringURI calls uri with the caller's codec and waits for the answer.
func (c *call) ringURI(ctx context.Context, agent string, uri siplib.Uri) ringResult {
	d, err := c.e.dg.NewDialog(uri, diago.NewDialogOptions{})
	if err != nil {
		return ringResult{agent: agent, err: err}
	}
	opts := diago.InviteClientOptions{Originator: c.in}
	opts.Headers = append(opts.Headers, siplib.NewHeader("X-Hotline-Call-ID", c.id))
	if err := d.Invite(ctx, opts); err != nil {
		_ = d.Close()
		return ringResult{agent: agent, err: err}
	}
	if err := d.Ack(ctx); err != nil {
		_ = d.Close()
		return ringResult{agent: agent, err: err}
	}
	return ringResult{agent: agent, dialog: d}
}

func isNumber(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// satisfaction asks the 1–5 question and records the answer.
func (c *call) satisfaction(ctx context.Context) {
	for len(c.dtmf) > 0 { // keys pressed while talking are not an answer
		<-c.dtmf
	}
	pressed := make(chan rune, 1)
	c.play(ctx, pressed, "satisfaction")
	deadline := time.Now().Add(c.e.cfg.SatisfactionTimeout)
	for {
		k, ok := c.waitKey(ctx, time.Until(deadline), pressed)
		if !ok {
			return
		}
		if k >= '1' && k <= '5' {
			c.record(callcenter.Event{Type: callcenter.EvSatisfaction, Satisfaction: int(k - '0')})
			c.play(ctx, nil, "thanks")
			return
		}
	}
}
