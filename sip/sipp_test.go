package sip

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/hotline/callcenter"
	"github.com/hotline12345/hotline/database"
)

// The tests drive the engine with sipp as callers and as agents' phones,
// over loopback only. Scenario files are in testdata; the RTP captures
// they play (RFC 2833 key presses, voice) are generated here.

func needSipp(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("HOTLINE_REQUIRE_SIPP") != "" {
			t.Fatal("HOTLINE_REQUIRE_SIPP is set but sipp is not installed (Debian package sip-tester)")
		}
		t.Skip("sipp not installed (Debian package sip-tester): skipping SIP tests")
	}
	if testing.Short() {
		t.Skip("-short: skipping SIP tests")
	}
	return p
}

// writePcap writes RTP packets as an Ethernet/IPv4/UDP capture, the form
// sipp's play_pcap_audio reads.
func writePcap(path string, packets [][]byte, interval time.Duration) error {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1) // Ethernet
	b.Write(hdr)
	for i, rtp := range packets {
		udpLen := 8 + len(rtp)
		ipLen := 20 + udpLen
		frame := make([]byte, 14+ipLen)
		binary.BigEndian.PutUint16(frame[12:], 0x0800)
		ip := frame[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		var sum uint32
		for j := 0; j < 20; j += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[j:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		udp := ip[20:]
		binary.BigEndian.PutUint16(udp[0:], 40000)
		binary.BigEndian.PutUint16(udp[2:], 40002)
		binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
		copy(udp[8:], rtp)
		ts := time.Duration(i) * interval
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(1700000000+ts/time.Second))
		le.PutUint32(rec[4:], uint32((ts%time.Second)/time.Microsecond))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		b.Write(rec)
		b.Write(frame)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func rtpPacket(pt byte, marker bool, seq uint16, ts uint32, payload []byte) []byte {
	p := make([]byte, 12+len(payload))
	p[0] = 0x80
	p[1] = pt
	if marker {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], 0x12345678)
	copy(p[12:], payload)
	return p
}

// dtmfPackets is one key press as RFC 2833 telephone-events (PT 101):
// the first packet already has a duration (diago ignores a zero-duration
// start), then three end-of-event packets.
func dtmfPackets(key byte) [][]byte {
	event := map[byte]byte{'*': 10, '#': 11}[key]
	if key >= '0' && key <= '9' {
		event = key - '0'
	}
	var out [][]byte
	seq := uint16(1000)
	for i := 1; i <= 5; i++ {
		dur := uint16(160 * i)
		out = append(out, rtpPacket(101, i == 1, seq, 8000, []byte{event, 10, byte(dur >> 8), byte(dur)}))
		seq++
	}
	for i := 0; i < 3; i++ {
		out = append(out, rtpPacket(101, false, seq, 8000, []byte{event, 0x80 | 10, 0x03, 0xC0})) // 960
		seq++
	}
	return out
}

// voicePackets is seconds of a 440 Hz tone in PCMU, 20 ms a packet.
func voicePackets(seconds int) [][]byte {
	var out [][]byte
	n := 0
	for i := 0; i < seconds*50; i++ {
		payload := make([]byte, 160)
		for j := range payload {
			v := int16(3000 * math.Sin(2*math.Pi*440*float64(n)/8000))
			payload[j] = linearToUlaw(v)
			n++
		}
		out = append(out, rtpPacket(0, i == 0, uint16(i), uint32(i*160), payload))
	}
	return out
}

func linearToUlaw(s int16) byte {
	const bias, clip = 0x84, 32635
	sign := byte(0)
	v := int(s)
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0f
	return ^(sign | byte(exp<<4) | byte(mant))
}

// shortPrompts writes 0.2 s silent prompts so the tests do not wait for
// the real (several seconds long) ones.
func shortPrompts(t *testing.T) string {
	dir := t.TempDir()
	for _, n := range promptNames {
		pcm := make([]byte, 3200)
		var b bytes.Buffer
		b.WriteString("RIFF")
		binary.Write(&b, binary.LittleEndian, uint32(36+len(pcm)))
		b.WriteString("WAVEfmt ")
		for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
			binary.Write(&b, binary.LittleEndian, v)
		}
		b.WriteString("data")
		binary.Write(&b, binary.LittleEndian, uint32(len(pcm)))
		b.Write(pcm)
		if err := os.WriteFile(filepath.Join(dir, n+".wav"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	for {
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		u.Close()
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			l.Close()
			return port
		}
	}
}

type harness struct {
	t      *testing.T
	svc    *callcenter.Service
	eng    *Engine
	addr   string
	dir    string // sipp working directory: scenarios and captures
	cancel context.CancelFunc
	done   chan error

	// Goroutines and open sockets before the engine started (noLeaks).
	goroutines, sockets int
	sinks               []*rtpSink // the parties' (see party)
}

var mediaPort = struct {
	sync.Mutex
	next int
}{next: 26000}

func nextMediaPort() int {
	mediaPort.Lock()
	defer mediaPort.Unlock()
	mediaPort.next += 10
	return mediaPort.next
}

func startEngine(t *testing.T, opts callcenter.Options, cfg Config) *harness {
	t.Helper()
	needSipp(t)
	goroutines, sockets := runtime.NumGoroutine(), openSockets()
	db := database.OpenTestSQLite(t)
	opts.DataDir = t.TempDir()
	if opts.RingTimeout == 0 {
		opts.RingTimeout = 2 * time.Second
	}
	if opts.WrapUp == 0 {
		opts.WrapUp = -1
	}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	svc, err := callcenter.New(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PromptsDir = shortPrompts(t)
	cfg.SatisfactionTimeout = 4 * time.Second
	eng, err := New(cfg, svc)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, svc: svc, eng: eng, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir: t.TempDir(), done: make(chan error, 1),
		goroutines: goroutines, sockets: sockets}
	for _, f := range []string{"register.xml", "register_refused.xml", "agent_answer.xml", "agent_hungup.xml", "agent_noanswer.xml", "agent_busy.xml", "caller_keys.xml", "caller_hangup.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.WriteFile(filepath.Join(h.dir, f), b, 0o644)
	}
	if err := writePcap(filepath.Join(h.dir, "voice.pcap"), voicePackets(3), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- eng.Serve(ctx, h.addr) }()
	select {
	case <-eng.Ready():
	case err := <-h.done:
		t.Fatal(err)
	}
	return h
}

func (h *harness) stop() {
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Error(err)
	}
}

// stopNoLeaks stops the engine, closes the parties' sinks and checks that
// the engine left no goroutine or socket behind (noLeaks).
func (h *harness) stopNoLeaks() {
	h.t.Helper()
	h.stop()
	for _, s := range h.sinks {
		s.close()
	}
	noLeaks(h.t, h.goroutines, h.sockets)
}

// must fails the test on err.
func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// mustFail fails the test with msg unless err says no.
func (h *harness) mustFail(err error, msg string) {
	h.t.Helper()
	if err == nil {
		h.t.Fatal(msg)
	}
}

// background runs f in a goroutine; the function returned waits for its
// error.
func background(f func() error) func() error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return func() error { return <-ch }
}

// await waits for each in turn (see background) and fails the test at the
// first error.
func (h *harness) await(waits ...func() error) {
	h.t.Helper()
	for _, w := range waits {
		h.must(w())
	}
}

// eventually calls cond up to n times, pause apart, until it holds, and
// says whether it did.
func eventually(n int, pause time.Duration, cond func() bool) bool {
	for i := 0; i < n; i++ {
		if cond() {
			return true
		}
		time.Sleep(pause)
	}
	return false
}

// sipp runs sipp in the harness directory and returns its error and output.
func (h *harness) sipp(ctx context.Context, dir string, args ...string) (string, error) {
	args = append(args, "-i", "127.0.0.1", "-nostdin", "-timeout", "40s", "-timeout_error", "-trace_err",
		"-error_file", filepath.Join(dir, fmt.Sprintf("err-%d.log", time.Now().UnixNano())))
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "err-*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			out = append(out, b...)
		}
	}
	return string(out), err
}

// register registers agent's phone (played by sipp on phonePort).
func (h *harness) register(user, password string, phonePort int, expect string) error {
	scenario := "register.xml"
	if expect == "403" {
		scenario = "register_refused.xml"
	}
	out, err := h.sipp(context.Background(), h.dir, "-sf", scenario, "-s", user, "-au", user, "-ap", password,
		"-key", "agent_port", fmt.Sprint(phonePort), "-m", "1", "-p", fmt.Sprint(freePort(h.t)), h.addr)
	if err != nil {
		return fmt.Errorf("%v\n%s", err, tail(out))
	}
	return nil
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// phoneIn starts sipp in dir (the harness's, or a party's: see party) as
// a phone running scenario for calls calls; the returned function waits
// for it.
func (h *harness) phoneIn(dir, scenario string, port, calls int, talk time.Duration) func() error {
	return background(func() error {
		out, err := h.sipp(context.Background(), dir, "-sf", scenario, "-p", fmt.Sprint(port), "-mp", fmt.Sprint(nextMediaPort()),
			"-m", fmt.Sprint(calls), "-d", fmt.Sprint(talk.Milliseconds()))
		if err != nil {
			err = fmt.Errorf("phone %s: %v\n%s", scenario, err, tail(out))
		}
		return err
	})
}

// caller runs one sipp caller; key is pressed repeatedly (caller_keys) or,
// if 0, the caller hangs up after hold (caller_hangup).
func (h *harness) caller(number string, key byte, hold time.Duration, extra ...string) error {
	dir := h.t.TempDir()
	for _, f := range []string{"caller_keys.xml", "caller_hangup.xml", "voice.pcap"} {
		b, _ := os.ReadFile(filepath.Join(h.dir, f))
		_ = os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	scenario := "caller_hangup.xml"
	if key != 0 {
		scenario = "caller_keys.xml"
		if err := writePcap(filepath.Join(dir, "dtmf.pcap"), dtmfPackets(key), 20*time.Millisecond); err != nil {
			return err
		}
	}
	args := append([]string{"-sf", scenario, "-s", number, "-m", "1", "-d", fmt.Sprint(hold.Milliseconds()),
		"-p", fmt.Sprint(freePort(h.t)), "-mp", fmt.Sprint(nextMediaPort()), h.addr}, extra...)
	out, err := h.sipp(context.Background(), dir, args...)
	if err != nil {
		return fmt.Errorf("caller %s: %v\n%s", number, err, tail(out))
	}
	return nil
}

func (h *harness) lastCall(caller string) callcenter.Call {
	h.t.Helper()
	// The engine writes the last events just after the BYE exchange.
	for i := 0; i < 50; i++ {
		calls, err := h.svc.Store().History(context.Background(), caller, 1)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(calls) == 1 && calls[0].EndedAt != nil && (calls[0].State != callcenter.Answered || calls[0].Recording != "") {
			return calls[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	calls, _ := h.svc.Store().History(context.Background(), caller, 1)
	if len(calls) == 0 {
		h.t.Fatalf("no call recorded for %s", caller)
	}
	return calls[0]
}

func goroutinesSettle(t *testing.T, base int) {
	t.Helper()
	for i := 0; i < 50; i++ {
		if runtime.NumGoroutine() <= base+2 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	t.Fatalf("goroutines: %d, were %d before the engine started\n%s", runtime.NumGoroutine(), base, buf[:n])
}

// TestCallAnsweredRated: a registered agent takes the call, talks, hangs
// up; the caller presses 5; the record has agent, talk, recording and
// satisfaction, and nothing leaks.
func TestCallAnsweredRated(t *testing.T) {
	h := startEngine(t, callcenter.Options{}, Config{})
	h.accounts("li")
	li := h.agentPhone("li", "agent_answer.xml", 0, 2*time.Second)
	h.signIn(li)
	if a := h.svc.Agent("li"); a.State != callcenter.Ready {
		t.Fatalf("registered agent: %+v", a)
	}
	h.must(h.caller("13800000001", '5', 0))
	h.await(li.wait)
	c := h.lastCall("13800000001")
	if c.State != callcenter.Answered || c.Agent != "li" || c.Satisfaction != 5 || c.TalkSeconds < 1 || c.Recording == "" {
		t.Fatalf("record: %+v", c)
	}
	wav, err := os.ReadFile(filepath.Join(h.svc.RecordingsDir(), c.Recording))
	if err != nil || len(wav) < 44+32000 || string(wav[:4]) != "RIFF" || binary.LittleEndian.Uint16(wav[22:]) != 2 {
		t.Fatalf("recording: %d bytes, %v", len(wav), err)
	}
	h.stopNoLeaks()
}

// TestWrongPasswordAndRingOut: a phone with a wrong password is refused;
// an agent who never answers is rung for the ring timeout, becomes not
// ready, and the caller, still waiting, hangs up: abandoned, with a
// call-back task.
func TestWrongPasswordAndRingOut(t *testing.T) {
	h := startEngine(t, callcenter.Options{RingTimeout: time.Second}, Config{})
	h.accounts("wang")
	wang := h.agentPhone("wang", "agent_noanswer.xml", 0, 0)
	h.must(h.register("wang", "wrong-password", wang.port, "403"))
	h.must(h.register("nobody", "whatever1", wang.port, "403"))
	if a := h.svc.Agent("wang"); a.State != callcenter.Offline {
		t.Fatalf("refused phone made the agent %s", a.State)
	}
	h.signIn(wang)
	h.must(h.caller("13800000002", 0, 3*time.Second))
	h.await(wang.wait)
	c := h.lastCall("13800000002")
	if c.State != callcenter.Abandoned || c.Agent != "" || c.WaitSeconds < 2 {
		t.Fatalf("record: %+v", c)
	}
	if a := h.svc.Agent("wang"); a.State != callcenter.NotReady || a.Reason != callcenter.ReasonNoAnswer {
		t.Fatalf("agent after ring-out: %+v", a)
	}
	cbs, _ := h.svc.Store().Callbacks(context.Background(), callcenter.CallbackOpen, 0)
	if len(cbs) != 1 || cbs[0].Caller != "13800000002" || cbs[0].Reason != callcenter.CallbackAbandoned {
		t.Fatalf("call-back tasks: %+v", cbs)
	}
	h.stopNoLeaks()
}

// TestOverloadCallback: in overload, a waiting caller is offered a
// call-back and presses 1: the call ends as callback with a task.
func TestOverloadCallback(t *testing.T) {
	h := startEngine(t, callcenter.Options{Overload: callcenter.Overload{Manual: true, CallbackAfter: time.Second}}, Config{})
	h.must(h.caller("13800000003", '1', 0))
	c := h.lastCall("13800000003")
	if c.State != callcenter.Callback {
		t.Fatalf("record: %+v", c)
	}
	cbs, _ := h.svc.Store().Callbacks(context.Background(), callcenter.CallbackOpen, 0)
	if len(cbs) != 1 || cbs[0].Reason != callcenter.CallbackRequested {
		t.Fatalf("call-back tasks: %+v", cbs)
	}
	h.stop()
}

// TestMalformedSIP: garbage, a request without SDP and an unknown method
// do not stop the engine, which still answers a call afterwards.
func TestMalformedSIP(t *testing.T) {
	h := startEngine(t, callcenter.Options{}, Config{})
	conn, err := net.Dial("udp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range []string{
		"\x00\x01garbage\r\n\r\n",
		"INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: broken\r\n\r\n",
		"INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:12345@b>\r\nCall-ID: nosdp\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		"FOO sip:x SIP/2.0\r\n\r\n",
		"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK2\r\nFrom: <sip:li@b>;tag=1\r\nTo: <sip:li@b>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\nAuthorization: Digest username=\"li\r\nContent-Length: 0\r\n\r\n",
	} {
		if _, err := conn.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	h.must(h.caller("13800000004", 0, 500*time.Millisecond))
	if c := h.lastCall("13800000004"); c.State != callcenter.Abandoned {
		t.Fatalf("record after garbage: %+v", c)
	}
	// The same over TCP.
	h.must(h.caller("13800000005", 0, 500*time.Millisecond, "-t", "t1"))
	if c := h.lastCall("13800000005"); c.State != callcenter.Abandoned {
		t.Fatalf("TCP call: %+v", c)
	}
	h.stop()
}

// TestCallerHangsUp: callers hang up at different moments — in the
// greeting, while waiting with no agent, while talking — and each record
// says so; the agent goes back to ready.
func TestCallerHangsUp(t *testing.T) {
	h := startEngine(t, callcenter.Options{}, Config{})
	h.accounts("zhao")
	// No agent yet: in the greeting (0.1 s) and in the queue (1 s).
	for _, c := range []struct {
		number string
		hold   time.Duration
	}{{"13900000001", 100 * time.Millisecond}, {"13900000002", time.Second}} {
		h.must(h.caller(c.number, 0, c.hold))
		if r := h.lastCall(c.number); r.State != callcenter.Abandoned || r.Agent != "" {
			t.Fatalf("%s: %+v", c.number, r)
		}
	}
	// While talking: the agent's phone gets the BYE, no satisfaction.
	zhao := h.agentPhone("zhao", "agent_hungup.xml", 0, 0)
	h.signIn(zhao)
	h.must(h.caller("13900000003", 0, 2500*time.Millisecond))
	h.await(zhao.wait)
	r := h.lastCall("13900000003")
	if r.State != callcenter.Answered || r.Agent != "zhao" || r.Satisfaction != 0 || r.EndedAt == nil {
		t.Fatalf("hang-up while talking: %+v", r)
	}
	if a := h.svc.Agent("zhao"); a.State != callcenter.Ready {
		t.Fatalf("agent after the call: %+v", a)
	}
	h.stopNoLeaks()
}

// TestHoldAndTransfer: li answers, puts the caller on hold and back, then
// transfers the call to wang, who talks and hangs up; the caller rates 5.
// The record keeps the first agent, says transferred to agent:wang, has
// the hold, and both agents are ready again.
func TestHoldAndTransfer(t *testing.T) {
	h := startEngine(t, callcenter.Options{}, Config{})
	h.accounts("li", "wang")
	li := h.agentPhone("li", "agent_hungup.xml", 0, 0)
	wang := h.agentPhone("wang", "agent_answer.xml", 0, time.Second)
	h.signIn(li, wang) // wang is busy so the ACD gives the call to li
	callerDone := background(func() error { return h.caller("13700000009", '5', 0) })
	_, ctl := h.talking("li")
	h.must(ctl.Hold())
	time.Sleep(1100 * time.Millisecond)
	h.must(ctl.Resume())
	h.mustFail(ctl.Transfer("12333"), "outside transfer without a trunk accepted")
	h.mustFail(ctl.Transfer("agent:wang"), "transfer to a not-ready agent accepted")
	h.agentDo("wang", callcenter.ActReady, "")
	h.must(ctl.Transfer("agent:wang"))
	h.await(callerDone, li.wait, wang.wait)
	c := h.lastRated("13700000009")
	if c.State != callcenter.Transferred || c.Target != "agent:wang" || c.Agent != "li" || c.Satisfaction != 5 || c.HoldSeconds < 1 {
		t.Fatalf("record: %+v", c)
	}
	for _, name := range []string{"li", "wang"} {
		if a := h.svc.Agent(name); a.State != callcenter.Ready {
			t.Fatalf("%s after the call: %+v", name, a)
		}
	}
	h.stopNoLeaks()
}

// TestTransferOutside: the agent transfers the caller to 12333 through the
// trunk (a sipp UAS playing the other hotline); li is freed at once.
func TestTransferOutside(t *testing.T) {
	trunkPort := freePort(t)
	h := startEngine(t, callcenter.Options{}, Config{Trunk: fmt.Sprintf("127.0.0.1:%d", trunkPort)})
	h.accounts("li")
	li := h.agentPhone("li", "agent_hungup.xml", 0, 0)
	trunk := h.trunkPhone(trunkPort, "agent_answer.xml", 0, time.Second)
	h.signIn(li)
	callerDone := background(func() error { return h.caller("13700000010", '4', 0) })
	_, ctl := h.talking("li")
	h.must(ctl.Transfer("12333"))
	h.await(callerDone, li.wait, trunk.wait)
	c := h.lastRated("13700000010")
	if c.State != callcenter.Transferred || c.Target != "12333" || c.Agent != "li" || c.Satisfaction != 4 {
		t.Fatalf("record: %+v", c)
	}
	h.stop()
}

// ---- During the call: attended transfer, transfer to a queue, three-way.
//
// These tests check the audio itself. Each party (a sipp caller or phone)
// sends its own tone (caller 400 Hz, first agent 1000 Hz, second agent or
// third party 1700 Hz: bin-aligned for 20 ms frames, and no low-order
// intermodulation product of two of them falls on the third), while its
// SDP points the engine's RTP at a UDP socket of the test (rtpSink), which
// keeps every frame with its arrival time. Who heard whom in each phase is
// then counted frame by frame with the Goertzel algorithm. The prompts are
// silent in tests, so a tone heard where none should be is a leak.

const (
	toneCaller = 400
	toneAgent  = 1000
	toneThird  = 1700
)

// tonePackets is seconds of a freq Hz tone in PCMU, 20 ms a packet.
func tonePackets(freq float64, seconds int) [][]byte {
	var out [][]byte
	n := 0
	for i := 0; i < seconds*50; i++ {
		payload := make([]byte, 160)
		for j := range payload {
			payload[j] = linearToUlaw(int16(3000 * math.Sin(2*math.Pi*freq*float64(n)/8000)))
			n++
		}
		out = append(out, rtpPacket(0, i == 0, uint16(i), uint32(i*160), payload))
	}
	return out
}

func ulawToLinear(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func alawToLinear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0f) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// toneLevel is the amplitude of the freq component of a frame (Goertzel).
func toneLevel(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / 8000
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(pcm))
}

type sinkFrame struct {
	at  time.Time
	pcm []int16
}

// rtpSink receives the RTP the engine sends to one party.
type rtpSink struct {
	conn   *net.UDPConn
	mu     sync.Mutex
	frames []sinkFrame
	done   chan struct{}
}

func newSink(t *testing.T) *rtpSink {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &rtpSink{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 2048)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			if n < 12+80 || buf[0]>>6 != 2 {
				continue
			}
			pt := buf[1] & 0x7f
			if pt != 0 && pt != 8 {
				continue // telephone-event, RTCP
			}
			pcm := make([]int16, n-12)
			for i, b := range buf[12:n] {
				if pt == 0 {
					pcm[i] = ulawToLinear(b)
				} else {
					pcm[i] = alawToLinear(b)
				}
			}
			s.mu.Lock()
			s.frames = append(s.frames, sinkFrame{at: time.Now(), pcm: pcm})
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rtpSink) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

func (s *rtpSink) close() {
	s.conn.Close()
	<-s.done
}

// heard counts the frames received in [from, to) that carry freq.
func (s *rtpSink) heard(from, to time.Time, freq float64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.frames {
		if !f.at.Before(from) && f.at.Before(to) && toneLevel(f.pcm, freq) >= 800 {
			n++
		}
	}
	return n
}

// window is a phase of a test call, trimmed of its edges.
type window struct{ from, to time.Time }

func phase(from, to time.Time) window {
	return window{from.Add(300 * time.Millisecond), to.Add(-100 * time.Millisecond)}
}

// expectHeard fails unless the sink heard each of want in at least 20
// frames (0.4 s) of w, and none of not in more than 2.
func expectHeard(t *testing.T, who string, s *rtpSink, w window, want, not []float64) {
	t.Helper()
	for _, f := range append(append([]float64(nil), want...), not...) {
		t.Logf("%s: %g Hz in %d frames of %v", who, f, s.heard(w.from, w.to, f), w.to.Sub(w.from).Round(time.Millisecond))
	}
	for _, f := range want {
		if n := s.heard(w.from, w.to, f); n < 20 {
			t.Errorf("%s heard %g Hz in %d frames of %v, want ≥ 20", who, f, n, w.to.Sub(w.from).Round(time.Millisecond))
		}
	}
	for _, f := range not {
		if n := s.heard(w.from, w.to, f); n > 2 {
			t.Errorf("%s heard %g Hz in %d frames of %v, want none", who, f, n, w.to.Sub(w.from).Round(time.Millisecond))
		}
	}
}

// party prepares a sipp working directory for one party: scenario with
// its SDP pointing the engine's RTP at a new sink, and voice.pcap a tone
// of freq Hz for seconds.
func (h *harness) party(scenario string, freq float64, seconds int) (string, *rtpSink) {
	h.t.Helper()
	dir := h.t.TempDir()
	sink := newSink(h.t)
	h.sinks = append(h.sinks, sink)
	b, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		h.t.Fatal(err)
	}
	x := strings.Replace(string(b), "m=audio [media_port]", fmt.Sprintf("m=audio %d", sink.port()), 1)
	if x == string(b) {
		h.t.Fatalf("%s: no m=audio line", scenario)
	}
	if err := os.WriteFile(filepath.Join(dir, scenario), []byte(x), 0o644); err != nil {
		h.t.Fatal(err)
	}
	if err := writePcap(filepath.Join(dir, "voice.pcap"), tonePackets(freq, seconds), 20*time.Millisecond); err != nil {
		h.t.Fatal(err)
	}
	return dir, sink
}

// callerIn runs the caller_hangup scenario from dir (see party).
func (h *harness) callerIn(dir, number string, hold time.Duration) error {
	out, err := h.sipp(context.Background(), dir, "-sf", "caller_hangup.xml", "-s", number, "-m", "1", "-d", fmt.Sprint(hold.Milliseconds()),
		"-p", fmt.Sprint(freePort(h.t)), "-mp", fmt.Sprint(nextMediaPort()), h.addr)
	if err != nil {
		return fmt.Errorf("caller %s: %v\n%s", number, err, tail(out))
	}
	return nil
}

// accounts gives each agent of names the SIP password "secret-NAME".
func (h *harness) accounts(names ...string) {
	h.t.Helper()
	for i, n := range names {
		h.must(h.svc.SetSIPPassword(context.Background(), int64(10+i), n, "secret-"+n))
	}
}

// sippPhone is an agent's phone, or the department behind the trunk,
// played by sipp for one call.
type sippPhone struct {
	agent string // "" for the trunk
	port  int
	sink  *rtpSink     // what the engine sends it; nil when nobody listens
	wait  func() error // waits for its scenario to end
}

// agentPhone starts agent's phone on a free port (see trunkPhone).
func (h *harness) agentPhone(agent, scenario string, tone float64, talk time.Duration) *sippPhone {
	h.t.Helper()
	p := h.trunkPhone(freePort(h.t), scenario, tone, talk)
	p.agent = agent
	return p
}

// trunkPhone starts a phone on port running scenario, talking for talk
// where the scenario hangs up. With a tone (Hz) it sends that tone and
// what the engine sends it is kept in its sink (see party); with 0 it
// sends voice.pcap and nobody listens.
func (h *harness) trunkPhone(port int, scenario string, tone float64, talk time.Duration) *sippPhone {
	h.t.Helper()
	p := &sippPhone{port: port}
	dir := h.dir
	if tone != 0 {
		dir, p.sink = h.party(scenario, tone, 20)
	}
	p.wait = h.phoneIn(dir, scenario, port, 1, talk)
	return p
}

// signIn registers the agents of the phones once these listen; the busy
// ones are first made not ready (in a meeting), so that the ACD offers
// the next call to ready.
func (h *harness) signIn(ready *sippPhone, busy ...*sippPhone) {
	h.t.Helper()
	time.Sleep(300 * time.Millisecond) // the phones listening
	for _, p := range busy {
		h.agentDo(p.agent, callcenter.ActNotReady, "会议")
	}
	for _, p := range append([]*sippPhone{ready}, busy...) {
		h.must(h.register(p.agent, "secret-"+p.agent, p.port, "200"))
	}
}

func (h *harness) agentDo(agent string, act callcenter.AgentAction, reason string) {
	h.t.Helper()
	_, err := h.svc.AgentDo(agent, act, reason)
	h.must(err)
}

// dial starts, in the background, a caller that sends toneCaller and
// hangs up after hold talking; it returns the caller's sink and the
// function that waits for the caller.
func (h *harness) dial(number string, hold time.Duration) (*rtpSink, func() error) {
	h.t.Helper()
	dir, sink := h.party("caller_hangup.xml", toneCaller, 20)
	return sink, background(func() error { return h.callerIn(dir, number, hold) })
}

// talking waits until agent talks and returns the control of her call.
func (h *harness) talking(agent string) (callID string, ctl callcenter.CallControl) {
	h.t.Helper()
	if !eventually(150, 50*time.Millisecond, func() bool {
		a := h.svc.Agent(agent)
		if a.State != callcenter.Talking {
			return false
		}
		callID = a.CallID
		var err error
		ctl, err = h.svc.Control(callID)
		return err == nil
	}) {
		h.t.Fatalf("%s never talked: %+v", agent, h.svc.Agent(agent))
	}
	return callID, ctl
}

// onCall fails the test with what unless agent talks on callID now.
func (h *harness) onCall(what, agent, callID string) {
	h.t.Helper()
	if a := h.svc.Agent(agent); a.State != callcenter.Talking || a.CallID != callID {
		h.t.Fatalf("%s: %+v", what, a)
	}
}

// expectState waits (a little) for the agents to be in state want.
func (h *harness) expectState(want callcenter.AgentState, agents ...string) {
	h.t.Helper()
	for _, agent := range agents {
		if !eventually(50, 50*time.Millisecond, func() bool { return h.svc.Agent(agent).State == want }) {
			h.t.Fatalf("%s: %+v, want %s", agent, h.svc.Agent(agent), want)
		}
	}
}

// callRecord waits for the call's record to be complete (ended, the
// recording attached).
func (h *harness) callRecord(callID string) *callcenter.Call {
	h.t.Helper()
	var c *callcenter.Call
	if !eventually(100, 50*time.Millisecond, func() bool {
		var err error
		c, err = h.svc.Store().GetByCallID(context.Background(), callID)
		return err == nil && c.EndedAt != nil && c.Recording != ""
	}) {
		h.t.Fatalf("record of %s never completed: %+v", callID, c)
	}
	return c
}

// rated calls record again and again (5 s at most) until the call's
// record carries the caller's rating, which comes after the call.
func rated(record func() *callcenter.Call) *callcenter.Call {
	var c *callcenter.Call
	eventually(50, 100*time.Millisecond, func() bool {
		c = record()
		return c.Satisfaction != 0
	})
	return c
}

// lastRated is lastCall, rated.
func (h *harness) lastRated(caller string) *callcenter.Call {
	h.t.Helper()
	return rated(func() *callcenter.Call {
		c := h.lastCall(caller)
		return &c
	})
}

// openSockets counts the process's open sockets (Linux; -1 elsewhere).
func openSockets() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// noLeaks checks, after the engine stopped, that its goroutines ended and
// its sockets (SIP listeners, every call's RTP) are closed.
func noLeaks(t *testing.T, goroutines, sockets int) {
	t.Helper()
	goroutinesSettle(t, goroutines)
	if sockets < 0 {
		return
	}
	for i := 0; i < 50; i++ {
		if openSockets() <= sockets {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("sockets: %d open, were %d before the engine started", openSockets(), sockets)
}

// TestAttendedTransfer: li puts the caller on hold and consults wang, who
// answers; li and wang hear each other, the caller hears neither; li
// completes the transfer: li is hung up (wrap-up, here ready at once),
// caller and wang hear each other. The record keeps li as the agent, wang
// as the last, transferred to agent:wang with the consultation as hold.
func TestAttendedTransfer(t *testing.T) {
	h := startEngine(t, callcenter.Options{}, Config{})
	h.accounts("li", "wang")
	li := h.agentPhone("li", "agent_hungup.xml", toneAgent, 0)
	wang := h.agentPhone("wang", "agent_hungup.xml", toneThird, 0)
	h.signIn(li, wang)
	caller, callerDone := h.dial("13600000001", 10*time.Second)
	callID, ctl := h.talking("li")
	t0 := time.Now()
	time.Sleep(time.Second)
	h.mustFail(ctl.CompleteTransfer(), "complete without a consultation accepted")
	h.agentDo("wang", callcenter.ActReady, "")
	tc := time.Now()
	h.must(ctl.Consult("agent:wang"))
	t1 := time.Now()
	h.onCall("wang consulted", "wang", callID)
	h.mustFail(ctl.Hold(), "hold during a consultation accepted")
	time.Sleep(1500 * time.Millisecond)
	t2 := time.Now()
	h.must(ctl.CompleteTransfer())
	t3 := time.Now()
	h.expectState(callcenter.Ready, "li")
	h.await(li.wait) // li got the BYE
	time.Sleep(1500 * time.Millisecond)
	t4 := time.Now()
	h.await(callerDone, wang.wait)
	talk, consult, after := phase(t0, tc), phase(t1, t2), phase(t3, t4)
	expectHeard(t, "li talking", li.sink, talk, []float64{toneCaller}, nil)
	expectHeard(t, "caller talking", caller, talk, []float64{toneAgent}, nil)
	expectHeard(t, "li consulting", li.sink, consult, []float64{toneThird}, []float64{toneCaller})
	expectHeard(t, "wang consulted", wang.sink, consult, []float64{toneAgent}, []float64{toneCaller})
	expectHeard(t, "caller on hold", caller, consult, nil, []float64{toneAgent, toneThird})
	expectHeard(t, "caller after the transfer", caller, after, []float64{toneThird}, []float64{toneAgent})
	expectHeard(t, "wang after the transfer", wang.sink, after, []float64{toneCaller}, []float64{toneAgent})
	c := h.callRecord(callID)
	if c.State != callcenter.Transferred || c.Agent != "li" || c.LastAgent != "wang" || c.Target != "agent:wang" || c.HoldSeconds < 1 || c.HoldStarted != nil {
		t.Fatalf("record: %+v", c)
	}
	h.expectState(callcenter.Ready, "li", "wang")
	h.stopNoLeaks()
}

// TestAttendedTransferCancelled: li consults wang, then cancels: wang is
// hung up and ready again, caller and li hear each other again, wang never
// heard the caller.
func TestAttendedTransferCancelled(t *testing.T) {
	h := startEngine(t, callcenter.Options{}, Config{})
	h.accounts("li", "wang")
	li := h.agentPhone("li", "agent_hungup.xml", toneAgent, 0)
	wang := h.agentPhone("wang", "agent_hungup.xml", toneThird, 0)
	h.signIn(li, wang)
	caller, callerDone := h.dial("13600000002", 8*time.Second)
	callID, ctl := h.talking("li")
	h.agentDo("wang", callcenter.ActReady, "")
	h.must(ctl.Consult("agent:wang"))
	t1 := time.Now()
	time.Sleep(1200 * time.Millisecond)
	t2 := time.Now()
	h.must(ctl.CancelConsult())
	t3 := time.Now()
	h.await(wang.wait) // wang got the BYE
	h.expectState(callcenter.Ready, "wang")
	h.onCall("li after the cancel", "li", callID)
	time.Sleep(1500 * time.Millisecond)
	t4 := time.Now()
	h.await(callerDone, li.wait)
	consult, back := phase(t1, t2), phase(t3, t4)
	expectHeard(t, "li consulting", li.sink, consult, []float64{toneThird}, []float64{toneCaller})
	expectHeard(t, "caller on hold", caller, consult, nil, []float64{toneAgent, toneThird})
	expectHeard(t, "li after the cancel", li.sink, back, []float64{toneCaller}, []float64{toneThird})
	expectHeard(t, "caller after the cancel", caller, back, []float64{toneAgent}, []float64{toneThird})
	if n := wang.sink.heard(t1.Add(-time.Hour), time.Now(), toneCaller); n > 2 {
		t.Errorf("wang heard the caller in %d frames", n)
	}
	c := h.callRecord(callID)
	if c.State != callcenter.Answered || c.Agent != "li" || c.LastAgent != "li" || c.Target != "" || c.HoldSeconds < 1 {
		t.Fatalf("record: %+v", c)
	}
	h.stopNoLeaks()
}

// TestConsultNotAnswered: wang's phone rings out, then the department
// reached through the trunk refuses (486): each time the consultation
// fails and the caller is back with li, hearing her.
func TestConsultNotAnswered(t *testing.T) {
	trunkPort := freePort(t)
	h := startEngine(t, callcenter.Options{RingTimeout: time.Second}, Config{Trunk: fmt.Sprintf("127.0.0.1:%d", trunkPort)})
	h.accounts("li", "wang")
	li := h.agentPhone("li", "agent_hungup.xml", toneAgent, 0)
	wang := h.agentPhone("wang", "agent_noanswer.xml", 0, 0)
	trunk := h.trunkPhone(trunkPort, "agent_busy.xml", 0, 0)
	h.signIn(li, wang)
	caller, callerDone := h.dial("13600000003", 8*time.Second)
	callID, ctl := h.talking("li")
	h.agentDo("wang", callcenter.ActReady, "")
	h.mustFail(ctl.Consult("agent:wang"), "consultation with a phone that never answers succeeded")
	h.await(wang.wait) // rang, was cancelled
	h.expectState(callcenter.Ready, "wang")
	h.mustFail(ctl.Consult("12333"), "consultation refused with 486 succeeded")
	h.await(trunk.wait)
	t3 := time.Now()
	h.onCall("li after the failed consultations", "li", callID)
	time.Sleep(1500 * time.Millisecond)
	t4 := time.Now()
	h.await(callerDone, li.wait)
	back := phase(t3, t4)
	expectHeard(t, "li afterwards", li.sink, back, []float64{toneCaller}, nil)
	expectHeard(t, "caller afterwards", caller, back, []float64{toneAgent}, nil)
	c := h.callRecord(callID)
	if c.State != callcenter.Answered || c.Agent != "li" || c.LastAgent != "li" || c.HoldSeconds < 1 || c.HoldStarted != nil {
		t.Fatalf("record: %+v", c)
	}
	h.stopNoLeaks()
}

// TestTransferToQueue: li (general queue) sends the caller to the english
// queue, where zhang (english only) is busy: the call waits there; when
// zhang is ready she is rung, answers, talks and hangs up; the caller
// rates 5. The record: transferred to queue:english, agent li, last agent
// zhang.
func TestTransferToQueue(t *testing.T) {
	h := startEngine(t, callcenter.Options{Queues: []callcenter.Queue{{Name: "general", Title: "普通话坐席"}, {Name: "english", Title: "英语坐席"}}}, Config{})
	h.accounts("li", "zhang")
	h.must(h.svc.SetSkills("li", []string{"general"}))
	h.must(h.svc.SetSkills("zhang", []string{"english"}))
	li := h.agentPhone("li", "agent_hungup.xml", 0, 0)
	zhang := h.agentPhone("zhang", "agent_answer.xml", 0, time.Second)
	h.signIn(li, zhang)
	callerDone := background(func() error { return h.caller("13600000004", '5', 0) })
	callID, ctl := h.talking("li")
	h.mustFail(ctl.Transfer("queue:nosuch"), "transfer to a queue that does not exist accepted")
	h.must(ctl.Transfer("queue:english"))
	h.await(li.wait) // li got the BYE
	h.expectState(callcenter.Ready, "li")
	// The caller waits in the english queue (li, general only, is not
	// offered it).
	if !eventually(50, 50*time.Millisecond, func() bool {
		l, err := h.svc.Live(context.Background())
		h.must(err)
		for _, w := range l.Calls {
			if w.CallID == callID && w.Queue == "english" && w.Offered == "" {
				return true
			}
		}
		return false
	}) {
		t.Fatal("the call never waited in the english queue")
	}
	if a := h.svc.Agent("li"); a.State != callcenter.Ready {
		t.Fatalf("li was offered the english call: %+v", a)
	}
	h.agentDo("zhang", callcenter.ActReady, "")
	h.await(zhang.wait, callerDone)
	c := rated(func() *callcenter.Call { return h.callRecord(callID) })
	if c.State != callcenter.Transferred || c.Target != "queue:english" || c.Agent != "li" || c.LastAgent != "zhang" || c.Satisfaction != 5 {
		t.Fatalf("record: %+v", c)
	}
	h.expectState(callcenter.Ready, "li", "zhang")
	h.stopNoLeaks()
}

// wavChannels reads a stereo 16-bit WAV into its two channels.
func wavChannels(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 44 || string(b[:4]) != "RIFF" || binary.LittleEndian.Uint16(b[22:]) != 2 {
		t.Fatalf("recording %s: %d bytes, %v", path, len(b), err)
	}
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:]))
		if id == "data" {
			d := b[i+8 : min(len(b), i+8+size)]
			for j := 0; j+4 <= len(d); j += 4 {
				left = append(left, int16(binary.LittleEndian.Uint16(d[j:])))
				right = append(right, int16(binary.LittleEndian.Uint16(d[j+2:])))
			}
			return left, right
		}
		i += 8 + size + size%2
	}
	t.Fatal("recording without data")
	return nil, nil
}

// framesWith counts the 20 ms frames of pcm that carry freq.
func framesWith(pcm []int16, freq float64) int {
	n := 0
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		if toneLevel(pcm[i:i+frameSamples], freq) >= 800 {
			n++
		}
	}
	return n
}

// TestThreeWayCall: li adds wang: caller, li and wang each hear the two
// others (and not themselves); li drops wang and the two-way call goes
// on; then li adds the department at 12333 through the trunk, which
// hangs up by itself. The recording has the caller on the left and li and
// wang mixed on the right; the record says three-way with agent:wang.
func TestThreeWayCall(t *testing.T) {
	trunkPort := freePort(t)
	h := startEngine(t, callcenter.Options{}, Config{Trunk: fmt.Sprintf("127.0.0.1:%d", trunkPort)})
	h.accounts("li", "wang")
	li := h.agentPhone("li", "agent_hungup.xml", toneAgent, 0)
	wang := h.agentPhone("wang", "agent_hungup.xml", toneThird, 0)
	trunk := h.trunkPhone(trunkPort, "agent_answer.xml", toneThird, 1500*time.Millisecond)
	h.signIn(li, wang)
	caller, callerDone := h.dial("13600000005", 12*time.Second)
	callID, ctl := h.talking("li")
	h.mustFail(ctl.DropConference(), "drop without a three-way call accepted")
	h.agentDo("wang", callcenter.ActReady, "")
	h.must(ctl.Conference("agent:wang"))
	t1 := time.Now()
	h.onCall("wang in the three-way call", "wang", callID)
	h.mustFail(ctl.Consult("12333"), "consultation during a three-way call accepted")
	time.Sleep(2 * time.Second)
	t2 := time.Now()
	h.must(ctl.DropConference())
	t3 := time.Now()
	h.await(wang.wait) // wang got the BYE
	h.expectState(callcenter.Ready, "wang")
	time.Sleep(1200 * time.Millisecond)
	t4 := time.Now()
	// The department joins, speaks and hangs up by itself.
	h.must(ctl.Conference("12333"))
	t5 := time.Now()
	h.await(trunk.wait)
	t6 := time.Now()
	h.onCall("li after the department left", "li", callID)
	time.Sleep(1200 * time.Millisecond)
	t7 := time.Now()
	h.await(callerDone, li.wait)
	three, two, dept, again := phase(t1, t2), phase(t3, t4), phase(t5, t6), phase(t6, t7)
	expectHeard(t, "caller three-way", caller, three, []float64{toneAgent, toneThird}, []float64{toneCaller})
	expectHeard(t, "li three-way", li.sink, three, []float64{toneCaller, toneThird}, []float64{toneAgent})
	expectHeard(t, "wang three-way", wang.sink, three, []float64{toneCaller, toneAgent}, []float64{toneThird})
	expectHeard(t, "caller after the drop", caller, two, []float64{toneAgent}, []float64{toneThird})
	expectHeard(t, "li after the drop", li.sink, two, []float64{toneCaller}, []float64{toneThird})
	expectHeard(t, "department three-way", trunk.sink, dept, []float64{toneCaller, toneAgent}, []float64{toneThird})
	expectHeard(t, "caller with the department", caller, dept, []float64{toneAgent, toneThird}, nil)
	expectHeard(t, "caller after the department left", caller, again, []float64{toneAgent}, []float64{toneThird})
	c := h.callRecord(callID)
	if c.State != callcenter.Answered || c.Agent != "li" || c.LastAgent != "li" || c.Conference != "12333" || c.ConferenceSeconds < 2 || c.ConferenceStarted != nil {
		t.Fatalf("record: %+v", c)
	}
	left, right := wavChannels(t, filepath.Join(h.svc.RecordingsDir(), c.Recording))
	if n := framesWith(left, toneCaller); n < 100 {
		t.Errorf("recording: caller's tone in %d frames of the left channel", n)
	}
	if n := framesWith(right, toneThird); n < 50 {
		t.Errorf("recording: the third party's tone in %d frames of the right channel", n)
	}
	if n := framesWith(right, toneAgent); n < 100 {
		t.Errorf("recording: li's tone in %d frames of the right channel", n)
	}
	h.stopNoLeaks()
}

// TestThreeWayAgentLeaves: li adds wang and hangs up: the caller goes on
// with wang (as after a transfer), li starts wrap-up.
func TestThreeWayAgentLeaves(t *testing.T) {
	h := startEngine(t, callcenter.Options{}, Config{})
	h.accounts("li", "wang")
	li := h.agentPhone("li", "agent_answer.xml", toneAgent, 4*time.Second)
	wang := h.agentPhone("wang", "agent_hungup.xml", toneThird, 0)
	h.signIn(li, wang)
	caller, callerDone := h.dial("13600000006", 9*time.Second)
	callID, ctl := h.talking("li")
	h.agentDo("wang", callcenter.ActReady, "")
	h.must(ctl.Conference("agent:wang"))
	h.await(li.wait) // li hangs up after 4 s
	t1 := time.Now()
	h.expectState(callcenter.Ready, "li")
	h.onCall("wang after li left", "wang", callID)
	time.Sleep(1500 * time.Millisecond)
	t2 := time.Now()
	h.await(callerDone, wang.wait)
	after := phase(t1, t2)
	expectHeard(t, "caller with wang", caller, after, []float64{toneThird}, []float64{toneAgent})
	expectHeard(t, "wang with the caller", wang.sink, after, []float64{toneCaller}, []float64{toneAgent})
	c := h.callRecord(callID)
	if c.State != callcenter.Transferred || c.Agent != "li" || c.LastAgent != "wang" || c.Target != "agent:wang" || c.Conference != "agent:wang" || c.ConferenceSeconds < 1 {
		t.Fatalf("record: %+v", c)
	}
	h.expectState(callcenter.Ready, "wang")
	h.stopNoLeaks()
}
