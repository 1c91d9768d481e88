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
	h := &harness{t: t, svc: svc, eng: eng, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir: t.TempDir(), done: make(chan error, 1)}
	for _, f := range []string{"register.xml", "register_refused.xml", "agent_answer.xml", "agent_hungup.xml", "agent_noanswer.xml", "caller_keys.xml", "caller_hangup.xml"} {
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

// phone starts sipp as an agent's phone running scenario for calls calls;
// the returned function waits for it.
func (h *harness) phone(scenario string, port, calls int, talk time.Duration) func() error {
	dir := h.dir
	ch := make(chan error, 1)
	go func() {
		out, err := h.sipp(context.Background(), dir, "-sf", scenario, "-p", fmt.Sprint(port), "-mp", fmt.Sprint(nextMediaPort()),
			"-m", fmt.Sprint(calls), "-d", fmt.Sprint(talk.Milliseconds()))
		if err != nil {
			err = fmt.Errorf("phone %s: %v\n%s", scenario, err, tail(out))
		}
		ch <- err
	}()
	return func() error { return <-ch }
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
	needSipp(t)
	base := runtime.NumGoroutine()
	h := startEngine(t, callcenter.Options{}, Config{})
	ctx := context.Background()
	if err := h.svc.SetSIPPassword(ctx, 2, "li", "secret-li"); err != nil {
		t.Fatal(err)
	}
	phonePort := freePort(t)
	wait := h.phone("agent_answer.xml", phonePort, 1, 2*time.Second)
	time.Sleep(300 * time.Millisecond) // phone listening
	if err := h.register("li", "secret-li", phonePort, "200"); err != nil {
		t.Fatal(err)
	}
	if a := h.svc.Agent("li"); a.State != callcenter.Ready {
		t.Fatalf("registered agent: %+v", a)
	}
	if err := h.caller("13800000001", '5', 0); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	c := h.lastCall("13800000001")
	if c.State != callcenter.Answered || c.Agent != "li" || c.Satisfaction != 5 || c.TalkSeconds < 1 || c.Recording == "" {
		t.Fatalf("record: %+v", c)
	}
	wav, err := os.ReadFile(filepath.Join(h.svc.RecordingsDir(), c.Recording))
	if err != nil || len(wav) < 44+32000 || string(wav[:4]) != "RIFF" || binary.LittleEndian.Uint16(wav[22:]) != 2 {
		t.Fatalf("recording: %d bytes, %v", len(wav), err)
	}
	h.stop()
	goroutinesSettle(t, base)
}

// TestWrongPasswordAndRingOut: a phone with a wrong password is refused;
// an agent who never answers is rung for the ring timeout, becomes not
// ready, and the caller, still waiting, hangs up: abandoned, with a
// call-back task.
func TestWrongPasswordAndRingOut(t *testing.T) {
	needSipp(t)
	base := runtime.NumGoroutine()
	h := startEngine(t, callcenter.Options{RingTimeout: time.Second}, Config{})
	ctx := context.Background()
	if err := h.svc.SetSIPPassword(ctx, 3, "wang", "secret-wang"); err != nil {
		t.Fatal(err)
	}
	phonePort := freePort(t)
	if err := h.register("wang", "wrong-password", phonePort, "403"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("nobody", "whatever1", phonePort, "403"); err != nil {
		t.Fatal(err)
	}
	if a := h.svc.Agent("wang"); a.State != callcenter.Offline {
		t.Fatalf("refused phone made the agent %s", a.State)
	}
	wait := h.phone("agent_noanswer.xml", phonePort, 1, 0)
	time.Sleep(300 * time.Millisecond)
	if err := h.register("wang", "secret-wang", phonePort, "200"); err != nil {
		t.Fatal(err)
	}
	if err := h.caller("13800000002", 0, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	c := h.lastCall("13800000002")
	if c.State != callcenter.Abandoned || c.Agent != "" || c.WaitSeconds < 2 {
		t.Fatalf("record: %+v", c)
	}
	if a := h.svc.Agent("wang"); a.State != callcenter.NotReady || a.Reason != callcenter.ReasonNoAnswer {
		t.Fatalf("agent after ring-out: %+v", a)
	}
	cbs, _ := h.svc.Store().Callbacks(ctx, callcenter.CallbackOpen, 0)
	if len(cbs) != 1 || cbs[0].Caller != "13800000002" || cbs[0].Reason != callcenter.CallbackAbandoned {
		t.Fatalf("call-back tasks: %+v", cbs)
	}
	h.stop()
	goroutinesSettle(t, base)
}

// TestOverloadCallback: in overload, a waiting caller is offered a
// call-back and presses 1: the call ends as callback with a task.
func TestOverloadCallback(t *testing.T) {
	needSipp(t)
	h := startEngine(t, callcenter.Options{Overload: callcenter.Overload{Manual: true, CallbackAfter: time.Second}}, Config{})
	if err := h.caller("13800000003", '1', 0); err != nil {
		t.Fatal(err)
	}
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
	needSipp(t)
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
	if err := h.caller("13800000004", 0, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c := h.lastCall("13800000004"); c.State != callcenter.Abandoned {
		t.Fatalf("record after garbage: %+v", c)
	}
	// The same over TCP.
	if err := h.caller("13800000005", 0, 500*time.Millisecond, "-t", "t1"); err != nil {
		t.Fatal(err)
	}
	if c := h.lastCall("13800000005"); c.State != callcenter.Abandoned {
		t.Fatalf("TCP call: %+v", c)
	}
	h.stop()
}

// TestCallerHangsUp: callers hang up at different moments — in the
// greeting, while waiting with no agent, while talking — and each record
// says so; the agent goes back to ready.
func TestCallerHangsUp(t *testing.T) {
	needSipp(t)
	base := runtime.NumGoroutine()
	h := startEngine(t, callcenter.Options{}, Config{})
	ctx := context.Background()
	if err := h.svc.SetSIPPassword(ctx, 4, "zhao", "secret-zhao"); err != nil {
		t.Fatal(err)
	}
	// No agent yet: in the greeting (0.1 s) and in the queue (1 s).
	for _, c := range []struct {
		number string
		hold   time.Duration
	}{{"13900000001", 100 * time.Millisecond}, {"13900000002", time.Second}} {
		if err := h.caller(c.number, 0, c.hold); err != nil {
			t.Fatal(err)
		}
		if r := h.lastCall(c.number); r.State != callcenter.Abandoned || r.Agent != "" {
			t.Fatalf("%s: %+v", c.number, r)
		}
	}
	// While talking: the agent's phone gets the BYE, no satisfaction.
	phonePort := freePort(t)
	wait := h.phone("agent_hungup.xml", phonePort, 1, 0)
	time.Sleep(300 * time.Millisecond)
	if err := h.register("zhao", "secret-zhao", phonePort, "200"); err != nil {
		t.Fatal(err)
	}
	if err := h.caller("13900000003", 0, 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	r := h.lastCall("13900000003")
	if r.State != callcenter.Answered || r.Agent != "zhao" || r.Satisfaction != 0 || r.EndedAt == nil {
		t.Fatalf("hang-up while talking: %+v", r)
	}
	if a := h.svc.Agent("zhao"); a.State != callcenter.Ready {
		t.Fatalf("agent after the call: %+v", a)
	}
	h.stop()
	goroutinesSettle(t, base)
}

// TestHoldAndTransfer: li answers, puts the caller on hold and back, then
// transfers the call to wang, who talks and hangs up; the caller rates 5.
// The record keeps the first agent, says transferred to agent:wang, has
// the hold, and both agents are ready again.
func TestHoldAndTransfer(t *testing.T) {
	needSipp(t)
	base := runtime.NumGoroutine()
	h := startEngine(t, callcenter.Options{}, Config{})
	ctx := context.Background()
	for _, a := range []struct {
		id         int64
		user, pass string
	}{{2, "li", "secret-li"}, {3, "wang", "secret-wang"}} {
		if err := h.svc.SetSIPPassword(ctx, a.id, a.user, a.pass); err != nil {
			t.Fatal(err)
		}
	}
	liPort, wangPort := freePort(t), freePort(t)
	waitLi := h.phone("agent_hungup.xml", liPort, 1, 0)
	waitWang := h.phone("agent_answer.xml", wangPort, 1, time.Second)
	time.Sleep(300 * time.Millisecond)
	if err := h.register("li", "secret-li", liPort, "200"); err != nil {
		t.Fatal(err)
	}
	// wang is busy (not ready) so the ACD gives the call to li.
	if _, err := h.svc.AgentDo("wang", callcenter.ActNotReady, "会议"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("wang", "secret-wang", wangPort, "200"); err != nil {
		t.Fatal(err)
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.caller("13700000009", '5', 0) }()
	var callID string
	for i := 0; i < 100 && callID == ""; i++ {
		if a := h.svc.Agent("li"); a.State == callcenter.Talking {
			callID = a.CallID
		}
		time.Sleep(100 * time.Millisecond)
	}
	if callID == "" {
		t.Fatal("li never talked")
	}
	var ctl callcenter.CallControl
	for i := 0; i < 50; i++ {
		var err error
		if ctl, err = h.svc.Control(callID); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ctl == nil {
		t.Fatal("no control for the call")
	}
	if err := ctl.Hold(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if err := ctl.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Transfer("12333"); err == nil {
		t.Fatal("outside transfer without a trunk accepted")
	}
	if err := ctl.Transfer("agent:wang"); err == nil {
		t.Fatal("transfer to a not-ready agent accepted")
	}
	if _, err := h.svc.AgentDo("wang", callcenter.ActReady, ""); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Transfer("agent:wang"); err != nil {
		t.Fatal(err)
	}
	if err := <-callerDone; err != nil {
		t.Fatal(err)
	}
	for _, w := range []func() error{waitLi, waitWang} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	var c callcenter.Call
	for i := 0; i < 50; i++ {
		if c = h.lastCall("13700000009"); c.Satisfaction != 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.State != callcenter.Transferred || c.Target != "agent:wang" || c.Agent != "li" || c.Satisfaction != 5 || c.HoldSeconds < 1 {
		t.Fatalf("record: %+v", c)
	}
	for _, name := range []string{"li", "wang"} {
		if a := h.svc.Agent(name); a.State != callcenter.Ready {
			t.Fatalf("%s after the call: %+v", name, a)
		}
	}
	h.stop()
	goroutinesSettle(t, base)
}

// TestTransferOutside: the agent transfers the caller to 12333 through the
// trunk (a sipp UAS playing the other hotline); li is freed at once.
func TestTransferOutside(t *testing.T) {
	needSipp(t)
	trunkPort := freePort(t)
	h := startEngine(t, callcenter.Options{}, Config{Trunk: fmt.Sprintf("127.0.0.1:%d", trunkPort)})
	if err := h.svc.SetSIPPassword(context.Background(), 2, "li", "secret-li"); err != nil {
		t.Fatal(err)
	}
	liPort := freePort(t)
	waitLi := h.phone("agent_hungup.xml", liPort, 1, 0)
	waitTrunk := h.phone("agent_answer.xml", trunkPort, 1, time.Second)
	time.Sleep(300 * time.Millisecond)
	if err := h.register("li", "secret-li", liPort, "200"); err != nil {
		t.Fatal(err)
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.caller("13700000010", '4', 0) }()
	var ctl callcenter.CallControl
	for i := 0; i < 100 && ctl == nil; i++ {
		if a := h.svc.Agent("li"); a.State == callcenter.Talking {
			ctl, _ = h.svc.Control(a.CallID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ctl == nil {
		t.Fatal("li never talked")
	}
	if err := ctl.Transfer("12333"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []func() error{func() error { return <-callerDone }, waitLi, waitTrunk} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	var c callcenter.Call
	for i := 0; i < 50; i++ {
		if c = h.lastCall("13700000010"); c.Satisfaction != 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.State != callcenter.Transferred || c.Target != "12333" || c.Agent != "li" || c.Satisfaction != 4 {
		t.Fatalf("record: %+v", c)
	}
	h.stop()
}
