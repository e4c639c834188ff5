package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// serveSink is the SMTP sink: it takes every message and keeps none,
// answering as a real server does (EHLO extensions, 354, dot-terminated
// data), and prints how many it took when it is stopped (SIGTERM). It runs
// in a process of its own, so the benchmark's figures are syndicate's
// alone. It returns only when it cannot listen or accept.
func serveSink(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", ln.Addr())
	var messages, bytesIn atomic.Int64
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		fmt.Printf("messages %d bytes %d\n", messages.Load(), bytesIn.Load())
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go sinkSession(c, &messages, &bytesIn, nil)
	}
}

// sinkSession serves one connection; got, when not nil, is given each
// message as it came (dot-stuffed, without the final dot line).
func sinkSession(c net.Conn, messages, bytesIn *atomic.Int64, got func([]byte)) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 4<<10)
	reply := func(s string) bool {
		w.WriteString(s)
		w.WriteString("\r\n")
		return w.Flush() == nil
	}
	if !reply("220 sink ESMTP") {
		return
	}
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		verb := bytes.ToUpper(bytes.TrimRight(line, "\r\n"))
		if i := bytes.IndexByte(verb, ' '); i >= 0 {
			verb = verb[:i]
		}
		switch string(verb) {
		case "EHLO":
			if !reply("250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8") {
				return
			}
		case "HELO":
			reply("250 sink")
		case "DATA":
			if !reply("354 go ahead") {
				return
			}
			n := 0
			var msg []byte
			for {
				l, err := r.ReadSlice('\n')
				n += len(l)
				if got != nil {
					msg = append(msg, l...)
				}
				if err == bufio.ErrBufferFull {
					continue
				}
				if err != nil {
					return
				}
				if len(l) == 3 && l[0] == '.' && l[1] == '\r' {
					break
				}
			}
			if got != nil {
				got(msg[:len(msg)-3])
			}
			bytesIn.Add(int64(n))
			messages.Add(1)
			if !reply("250 2.0.0 taken") {
				return
			}
		case "QUIT":
			reply("221 bye")
			return
		default: // MAIL, RCPT, RSET, NOOP
			if !reply("250 ok") {
				return
			}
		}
	}
}
