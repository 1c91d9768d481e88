package sip

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	siplib "github.com/emiago/sipgo/sip"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/callcenter"
)

// During the call. The caller's audio goes to c.sink (read by the caller's
// reader goroutine); each party on the agent side is a leg whose forwarder
// sends that party's audio to the leg's dst. Who hears whom is only a
// matter of pointing sinks and dsts:
//
//	talking        caller → agent, agent → caller
//	hold           caller → nowhere, agent → nowhere; hold music → caller
//	consultation   caller on hold; agent → consulted party → agent
//	three-way      caller, agent, third party → mixer → each the others' sum
//
// All changes happen in the call's goroutine (talk), which also carries
// out the desk's commands.

// leg is a party on the agent side: the agent, a consulted party, the
// third party of a three-way call, or the target of a transfer.
type leg struct {
	out     *diago.DialogClientSession
	agent   string    // the agent's user name ("" for an outside number)
	target  string    // as the desk named it: agent:NAME or a number
	w       io.Writer // to the party (serialised: several writers take turns)
	codec   media.Codec
	mu      sync.Mutex
	dst     io.Writer // where the party's audio goes; nil: nowhere
	fwdDone chan struct{}
}

func (l *leg) setDst(w io.Writer) {
	l.mu.Lock()
	l.dst = w
	l.mu.Unlock()
}

func doneOf(l *leg) <-chan struct{} {
	if l == nil {
		return nil
	}
	return l.out.Context().Done()
}

// newLeg starts forwarding out's audio (to nowhere until setDst).
func (c *call) newLeg(out *diago.DialogClientSession, agent, target string) (*leg, error) {
	outW, err1 := out.AudioWriter()
	outR, err2 := out.AudioReader()
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	l := &leg{out: out, agent: agent, target: target, w: &lockedWriter{w: outW},
		codec: media.CodecAudioFromSession(out.MediaSession()), fwdDone: make(chan struct{})}
	go func() {
		defer close(l.fwdDone)
		buf := make([]byte, media.RTPBufSize)
		for {
			n, err := outR.Read(buf)
			if err != nil {
				return
			}
			if n < 40 { // a telephone-event payload, not audio
				continue
			}
			l.mu.Lock()
			d := l.dst
			l.mu.Unlock()
			if d == nil {
				continue
			}
			if _, err := d.Write(buf[:n]); err != nil {
				l.mu.Lock()
				if l.dst == d {
					l.dst = nil
				}
				l.mu.Unlock()
			}
		}
	}()
	return l, nil
}

// bridge connects the caller with l both ways.
func (c *call) bridge(l *leg) {
	l.setDst(c.toCaller)
	c.setSink(l.w)
}

// endLeg hangs the leg up (if hangup) and waits for its forwarder.
func (c *call) endLeg(l *leg, hangup bool) {
	c.sinkMu.Lock()
	if c.sink == l.w {
		c.sink = nil
	}
	c.sinkMu.Unlock()
	l.setDst(nil)
	if hangup {
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = l.out.Hangup(hctx)
		cancel()
	}
	_ = l.out.Close()
	<-l.fwdDone
}

type command struct {
	kind  string // hold, resume, transfer, consult, complete, cancel, conference, drop
	to    string
	reply chan error
}

// control is the desk's handle on a connected call; commands run in the
// call's own goroutine.
type control struct {
	cmds chan command
	done chan struct{}
}

func (k *control) send(cmd command) error {
	cmd.reply = make(chan error, 1)
	select {
	case k.cmds <- cmd:
	case <-k.done:
		return errCallEnded()
	}
	select {
	case err := <-cmd.reply:
		return err
	case <-k.done:
		return errCallEnded()
	}
}

func errCallEnded() error {
	return hotline.Errorf(hotline.EUNPROCESSABLE, "通话已结束", "the call has ended")
}

func (k *control) Hold() error                { return k.send(command{kind: "hold"}) }
func (k *control) Resume() error              { return k.send(command{kind: "resume"}) }
func (k *control) Transfer(to string) error   { return k.send(command{kind: "transfer", to: to}) }
func (k *control) Consult(to string) error    { return k.send(command{kind: "consult", to: to}) }
func (k *control) CompleteTransfer() error    { return k.send(command{kind: "complete"}) }
func (k *control) CancelConsult() error       { return k.send(command{kind: "cancel"}) }
func (k *control) Conference(to string) error { return k.send(command{kind: "conference", to: to}) }
func (k *control) DropConference() error      { return k.send(command{kind: "drop"}) }

// pendingRing is a consulted or third party being rung while the call
// goes on; the desk's command waits for the outcome.
type pendingRing struct {
	kind   string // consult, conference
	to     string
	agent  string
	cancel context.CancelFunc
	result chan ringResult
	reply  chan error
}

// talkState is who is connected to whom.
type talkState struct {
	l     *leg    // the agent (or whoever the call passed to): bridged with the caller unless on hold
	held  *player // hold music to the caller (hold or consultation)
	ring  *pendingRing
	cons  *leg // consulted party, answered
	third *leg // three-way party, answered
	mix   *mixer
}

func (st *talkState) busy() error {
	if st.ring != nil || st.cons != nil || st.mix != nil {
		return hotline.Errorf(hotline.EUNPROCESSABLE, "正在咨询转接或三方通话中，请先完成或取消", "a consultation or three-way call is in progress: complete or cancel it first")
	}
	return nil
}

// talk bridges caller and agent until one hangs up, carrying out the
// desk's commands; when the agent (or whoever the call passed to) hangs
// up first the caller is asked for satisfaction. It returns the queue to
// put the caller in when the agent transferred the call to a queue.
func (c *call) talk(ctx context.Context, agent string, out *diago.DialogClientSession) string {
	c.svc.Connected(c.id, agent)
	c.record(callcenter.Event{Type: callcenter.EvAnswered, Agent: agent})
	l, err := c.newLeg(out, agent, "agent:"+agent)
	if err != nil || c.toCaller == nil {
		c.e.log.Warn("bridge", "call", c.id, "err", err)
		_ = out.Close()
		return ""
	}
	c.bridge(l)
	st := &talkState{l: l}
	k := &control{cmds: make(chan command), done: make(chan struct{})}
	unregister := c.svc.RegisterControl(c.id, k)
	defer func() { unregister(); close(k.done) }()
	for {
		var ringCh chan ringResult
		if st.ring != nil {
			ringCh = st.ring.result
		}
		select {
		case <-ctx.Done(): // the caller hung up (or shutdown)
			c.stopAll(st)
			c.endLeg(st.l, true)
			c.record(callcenter.Event{Type: callcenter.EvEnded})
			c.ended.Store(true)
			return ""
		case <-doneOf(st.l): // the agent (or whoever has the call) hung up
			switch {
			case st.cons != nil: // hanging up while consulting completes the transfer
				c.completeTransfer(st, false)
				continue
			case st.mix != nil: // the agent leaves the three-way call
				c.agentLeaves(st)
				continue
			}
			c.stopAll(st)
			c.endLeg(st.l, false)
			c.record(callcenter.Event{Type: callcenter.EvEnded})
			c.ended.Store(true)
			c.satisfaction(ctx)
			return ""
		case <-doneOf(st.cons): // the consulted party hung up: caller back with the agent
			c.endConsult(st, false)
		case <-doneOf(st.third): // the third party left: two-way again
			c.endConference(st, false)
		case r := <-ringCh:
			c.ringDone(ctx, st, r)
		case cmd := <-k.cmds:
			if q := c.command(ctx, st, cmd); q != "" {
				return q
			}
		}
	}
}

// command carries out one desk command; it returns a queue when the call
// was transferred to one.
func (c *call) command(ctx context.Context, st *talkState, cmd command) string {
	switch cmd.kind {
	case "hold", "resume", "transfer", "consult", "conference":
		// These want caller and agent alone on the call.
		if err := st.busy(); err != nil {
			cmd.reply <- err
			return ""
		}
	}
	switch cmd.kind {
	case "hold":
		if st.held == nil {
			c.hold(ctx, st)
		}
		cmd.reply <- nil
	case "resume":
		if st.held != nil {
			c.unhold(st)
		}
		cmd.reply <- nil
	case "transfer":
		if q, ok := strings.CutPrefix(cmd.to, callcenter.QueuePrefix); ok {
			if !c.svc.HasQueue(q) {
				cmd.reply <- hotline.Errorf(hotline.EINVALID, "队列不存在：%s", "no such queue: %s", q, q)
				return ""
			}
			cmd.reply <- nil
			st.held.Stop()
			st.held = nil
			c.endLeg(st.l, true)
			if st.l.agent != "" {
				c.svc.EndTalk(c.id, st.l.agent)
			}
			c.record(callcenter.Event{Type: callcenter.EvTransferred, Target: cmd.to})
			return q
		}
		cmd.reply <- c.transfer(ctx, st, cmd.to)
	case "consult":
		uri, agent, err := c.reserve(cmd.to, "咨询")
		if err != nil {
			cmd.reply <- err
			return ""
		}
		if st.held == nil {
			c.hold(ctx, st)
		}
		st.ring = c.startRing(ctx, "consult", cmd.to, agent, uri, cmd.reply)
	case "complete":
		if st.cons == nil {
			cmd.reply <- hotline.Errorf(hotline.EUNPROCESSABLE, "没有已接通的咨询对象", "no consulted party is connected")
			return ""
		}
		c.completeTransfer(st, true)
		cmd.reply <- nil
	case "cancel":
		st.withdraw(cmd, "consult", st.cons != nil, func() { c.endConsult(st, true) },
			hotline.Errorf(hotline.EUNPROCESSABLE, "没有进行中的咨询", "no consultation in progress"))
	case "conference":
		if st.held != nil {
			cmd.reply <- hotline.Errorf(hotline.EUNPROCESSABLE, "请先取消保持", "resume the call first")
			return ""
		}
		if !mixable(c.callerCodec()) || !mixable(st.l.codec) {
			cmd.reply <- hotline.Errorf(hotline.EUNPROCESSABLE, "三方通话只支持G.711编码", "three-way calls need G.711 (PCMU/PCMA) on every leg")
			return ""
		}
		uri, agent, err := c.reserve(cmd.to, "三方")
		if err != nil {
			cmd.reply <- err
			return ""
		}
		st.ring = c.startRing(ctx, "conference", cmd.to, agent, uri, cmd.reply)
	case "drop":
		st.withdraw(cmd, "conference", st.mix != nil, func() { c.endConference(st, true) },
			hotline.Errorf(hotline.EUNPROCESSABLE, "没有进行中的三方通话", "no three-way call in progress"))
	default:
		cmd.reply <- hotline.Errorf(hotline.EINVALID, "未知的通话操作", "unknown call action")
	}
	return ""
}

// withdraw carries out a cancel or a drop: it cancels the ringing of kind
// (its outcome, cancelled, answers the command that started it) or, when
// that party is connected, calls end; with neither it replies none.
func (st *talkState) withdraw(cmd command, kind string, connected bool, end func(), none error) {
	switch {
	case st.ring != nil && st.ring.kind == kind:
		st.ring.cancel()
	case connected:
		end()
	default:
		cmd.reply <- none
		return
	}
	cmd.reply <- nil
}

func (c *call) callerCodec() media.Codec {
	return media.CodecAudioFromSession(c.in.MediaSession())
}

// hold mutes both directions and plays hold music to the caller, and
// records the hold.
func (c *call) hold(ctx context.Context, st *talkState) {
	st.l.setDst(nil)
	c.setSink(nil)
	st.held = c.startPlayer(ctx, func() []string { return []string{"hold"} })
	c.record(callcenter.Event{Type: callcenter.EvHold})
}

// unhold stops the music, reconnects caller and agent, and records the
// resume.
func (c *call) unhold(st *talkState) {
	st.held.Stop()
	st.held = nil
	c.bridge(st.l)
	c.record(callcenter.Event{Type: callcenter.EvResume})
}

// resolve turns a target into a SIP URI: "agent:NAME" is her registered
// phone, a number goes through the trunk. An agent must be ready and is
// reserved (ringing) for the call.
func (c *call) reserve(to, what string) (siplib.Uri, string, error) {
	var uri siplib.Uri
	switch {
	case strings.HasPrefix(to, "agent:"):
		agent := strings.TrimPrefix(to, "agent:")
		b := c.e.reg.lookupBinding(agent)
		if b == nil {
			return uri, "", hotline.Errorf(hotline.EUNPROCESSABLE, "坐席%s的话机未注册", "agent %s has no registered phone", agent, agent)
		}
		if err := c.svc.Reserve(agent, c.id); err != nil {
			return uri, "", err
		}
		return b.contact, agent, nil
	case isNumber(to):
		if c.e.cfg.Trunk == "" {
			return uri, "", hotline.Errorf(hotline.EUNPROCESSABLE, "未配置外线中继，不能呼叫外部号码", "no outside trunk configured (Config.Trunk)")
		}
		if err := siplib.ParseUri("sip:"+to+"@"+c.e.cfg.Trunk, &uri); err != nil {
			return uri, "", hotline.Errorf(hotline.EINVALID, "外线中继地址无效", "bad trunk address")
		}
		return uri, "", nil
	default:
		return uri, "", hotline.Errorf(hotline.EINVALID, "%s目标须为agent:用户名或电话号码", `%s target must be "agent:NAME" or a number`, what, map[string]string{"咨询": "consultation", "三方": "three-way", "转接": "transfer"}[what])
	}
}

// startRing rings a consulted or third party in the background.
func (c *call) startRing(ctx context.Context, kind, to, agent string, uri siplib.Uri, reply chan error) *pendingRing {
	rctx, cancel := context.WithTimeout(ctx, c.svc.Options().RingTimeout)
	p := &pendingRing{kind: kind, to: to, agent: agent, cancel: cancel, result: make(chan ringResult, 1), reply: reply}
	go func() { p.result <- c.ringURI(rctx, agent, uri) }()
	return p
}

// ringDone connects the consulted or third party who answered, or brings
// the caller back to the agent when they did not.
func (c *call) ringDone(ctx context.Context, st *talkState, r ringResult) {
	p := st.ring
	st.ring = nil
	p.cancel()
	var nl *leg
	err := r.err
	if err == nil {
		if nl, err = c.newLeg(r.dialog, p.agent, p.to); err != nil {
			hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = r.dialog.Hangup(hctx)
			cancel()
			_ = r.dialog.Close()
		} else if p.kind == "conference" && !mixable(nl.codec) {
			c.endLeg(nl, true)
			err = errors.New("codec " + nl.codec.Name)
		}
	}
	if err != nil {
		c.e.log.Info("party did not answer", "call", c.id, "kind", p.kind, "to", p.to, "err", err)
		if p.agent != "" {
			c.svc.Release(p.agent, c.id)
		}
		if p.kind == "consult" {
			c.unhold(st)
		}
		p.reply <- hotline.Errorf(hotline.EUNPROCESSABLE, "对方未应答或已取消", "the other party did not answer (or the call was cancelled)")
		return
	}
	if p.agent != "" {
		c.svc.Connected(c.id, p.agent)
	}
	switch p.kind {
	case "consult":
		st.cons = nl
		st.l.setDst(nl.w)
		nl.setDst(st.l.w)
		c.record(callcenter.Event{Type: callcenter.EvConsult, Target: p.to, Agent: p.agent})
	case "conference":
		st.third = nl
		st.mix = newMixer([]media.Codec{c.callerCodec(), st.l.codec, nl.codec}, []io.Writer{c.toCaller, st.l.w, nl.w})
		c.setSink(st.mix.input(0))
		st.l.setDst(st.mix.input(1))
		nl.setDst(st.mix.input(2))
		st.mix.start()
		c.record(callcenter.Event{Type: callcenter.EvConference, Target: p.to, Agent: p.agent})
	}
	p.reply <- nil
}

// completeTransfer ends the consultation by giving the caller to the
// consulted party; the agent is hung up (if she has not already) and
// starts wrap-up.
func (c *call) completeTransfer(st *talkState, hangup bool) {
	st.held.Stop()
	st.held = nil
	first, to := st.l, st.cons
	c.endLeg(first, hangup)
	if first.agent != "" {
		c.svc.EndTalk(c.id, first.agent)
	}
	c.record(callcenter.Event{Type: callcenter.EvTransferred, Target: to.target, Agent: to.agent})
	st.l, st.cons = to, nil
	c.bridge(to)
}

// endConsult ends the consultation (the consulted party is hung up, or
// hung up) and brings the caller back to the agent.
func (c *call) endConsult(st *talkState, hangup bool) {
	cons := st.cons
	st.cons = nil
	c.endLeg(cons, hangup)
	if cons.agent != "" {
		c.svc.EndTalk(c.id, cons.agent)
	}
	c.unhold(st)
}

// endConference drops (or loses) the third party: two-way again.
func (c *call) endConference(st *talkState, hangup bool) {
	st.mix.stop()
	st.mix = nil
	third := st.third
	st.third = nil
	c.endLeg(third, hangup)
	if third.agent != "" {
		c.svc.EndTalk(c.id, third.agent)
	}
	c.bridge(st.l)
	c.record(callcenter.Event{Type: callcenter.EvConferenceEnd})
}

// agentLeaves: the agent hung up during a three-way call; the caller goes
// on with the third party, as after a transfer.
func (c *call) agentLeaves(st *talkState) {
	st.mix.stop()
	st.mix = nil
	first, third := st.l, st.third
	st.third = nil
	c.endLeg(first, false)
	if first.agent != "" {
		c.svc.EndTalk(c.id, first.agent)
	}
	c.record(callcenter.Event{Type: callcenter.EvConferenceEnd})
	c.record(callcenter.Event{Type: callcenter.EvTransferred, Target: third.target, Agent: third.agent})
	st.l = third
	c.bridge(third)
}

// stopAll ends whatever is in progress besides the main leg: a ring, a
// consultation, a three-way call, hold music.
func (c *call) stopAll(st *talkState) {
	if p := st.ring; p != nil {
		st.ring = nil
		p.cancel()
		r := <-p.result
		if r.dialog != nil {
			hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = r.dialog.Hangup(hctx)
			cancel()
			_ = r.dialog.Close()
		}
		if p.agent != "" {
			c.svc.Release(p.agent, c.id)
		}
		p.reply <- errCallEnded()
	}
	if st.mix != nil {
		st.mix.stop()
		st.mix = nil
	}
	if st.third != nil {
		c.endLeg(st.third, true)
		st.third = nil
	}
	if st.cons != nil {
		c.endLeg(st.cons, true)
		st.cons = nil
	}
	st.held.Stop()
	st.held = nil
}

// transfer (blind) rings the target while the caller hears the transfer
// prompt and hold music; on answer the agent is hung up and the caller
// bridged to the target. On failure the caller is back with the agent.
func (c *call) transfer(ctx context.Context, st *talkState, to string) error {
	uri, agent, err := c.reserve(to, "转接")
	if err != nil {
		return err
	}
	wasHeld := st.held != nil
	if wasHeld {
		st.held.Stop()
		st.held = nil
	} else {
		st.l.setDst(nil)
		c.setSink(nil)
	}
	first := true
	music := c.startPlayer(ctx, func() []string {
		if first {
			first = false
			return []string{"transfer", "hold"}
		}
		return []string{"hold"}
	})
	rctx, cancel := context.WithTimeout(ctx, c.svc.Options().RingTimeout)
	r := c.ringURI(rctx, agent, uri)
	cancel()
	music.Stop()
	if r.err != nil {
		if agent != "" {
			c.svc.Release(agent, c.id)
		}
		c.bridge(st.l)
		if wasHeld {
			c.record(callcenter.Event{Type: callcenter.EvResume})
		}
		return hotline.Errorf(hotline.EUNPROCESSABLE, "转接对象未应答", "the transfer target did not answer")
	}
	if agent != "" {
		c.svc.Connected(c.id, agent)
	}
	old := st.l
	c.endLeg(old, true)
	if old.agent != "" {
		c.svc.EndTalk(c.id, old.agent)
	}
	c.record(callcenter.Event{Type: callcenter.EvTransferred, Target: to, Agent: agent})
	nl, err := c.newLeg(r.dialog, agent, to)
	if err != nil {
		_ = r.dialog.Close()
		return err // the ended leg ends the call
	}
	st.l = nl
	c.bridge(nl)
	return nil
}
