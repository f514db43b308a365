#!/usr/bin/env python3
"""Writes the seed corpus under tools/fuzz/corpus/TARGET/: a few small, valid (or nearly valid) inputs per target,
laid out as each harness in tools/fuzz/Vmm.Fuzz/Targets reads them. Run it again after changing a layout."""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    directory = os.path.join(ROOT, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def image(size, pieces):
    buf = bytearray(size)
    for offset, data in pieces:
        buf[offset:offset + len(data)] = data
    return bytes(buf)


def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


NEXT, WRITE, INDIRECT = 1, 2, 4

# virtqueue: [size exponent][features: 1 indirect, 2 event idx, 4 batch][next avail u16] + memory from 0
write("virtqueue", "chain", bytes([3, 0]) + struct.pack("<H", 0) + image(0x340, [
    (0x000, desc(0x300, 16, NEXT, 1) + desc(0x320, 32, WRITE, 0)),
    (0x100, struct.pack("<HHH", 0, 1, 0))]))
write("virtqueue", "indirect", bytes([3, 3]) + struct.pack("<H", 0) + image(0x440, [
    (0x000, desc(0x400, 32, INDIRECT, 0)),
    (0x100, struct.pack("<HHH", 0, 1, 0)),
    (0x400, desc(0x300, 16, NEXT, 1) + desc(0x320, 32, WRITE, 0))]))
write("virtqueue", "batch", bytes([2, 6]) + struct.pack("<H", 0xFFFE) + image(0x340, [
    (0x000, desc(0x300, 8, 0, 0) + desc(0x310, 8, WRITE, 0) + desc(0x320, 8, NEXT, 3) + desc(0x330, 8, WRITE, 0)),
    (0x100, struct.pack("<HHHHH", 0, 1, 0, 1, 2))]))

# config: VmConfig JSON
write("config", "empty", "{}")
write("config", "rng", '{"machine":{"memory":"128M","vcpus":2},"platform":"auto","devices":[{"id":"rng0","plugin":"virtio-rng","type":"virtio-rng","options":{"source":"os"}}],"control":{"socket":"/tmp/x.sock"}}')
write("config", "full", '{"machine":{"memory":"1G","vcpus":4,"kernel":"vmlinuz","initrd":"initrd.img","cmdline":"console=ttyS0"},'
      '"plugins":{"paths":["plugins"],"builtIn":true,"optional":["x"]},"display":{"sinks":[{"type":"vnc","listen":"127.0.0.1:5900"}]},'
      '"input":{"evdev":[{"path":"/dev/input/event0"}]},"devices":[],"control":{"socket":"vmm.sock"}}')

# control: one request per line
write("control", "status", '{"v":1,"id":7,"command":"status","args":{}}\n')
write("control", "lines", '{"v":1,"id":"a","command":"screenshot","args":{"path":"/tmp/s.png"}}\n{"v":2,"command":"x"}\n[1,2]\n{"v":1,"command":"stop","args":null}\n')

# loader: [mode: 0 ELF parse, 1 bzImage parse, else KernelLoader.Load] + image
def elf64(entry=0x100000, paddr=0x100000, body=b"\xf4" * 16):
    phoff, ehsize, phentsize = 64, 64, 56
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, phoff, 0, 0, ehsize, phentsize, 1, 0, 0, 0)
    offset = phoff + phentsize
    ph = struct.pack("<IIQQQQQQ", 1, 7, offset, paddr, paddr, len(body), len(body), 0x1000)
    return header + ph + body


def elf32_pvh(entry=0x100000):
    phoff, phentsize = 52, 32
    note = struct.pack("<III", 4, 4, 18) + b"Xen\x00" + struct.pack("<I", entry)
    body = b"\xf4" * 16
    header = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, phoff, 0, 0, 52, phentsize, 2, 0, 0, 0)
    data_offset = phoff + 2 * phentsize
    load = struct.pack("<IIIIIIII", 1, data_offset, entry, entry, len(body), len(body), 7, 0x1000)
    pnote = struct.pack("<IIIIIIII", 4, data_offset + len(body), 0, 0, len(note), len(note), 4, 4)
    return header + load + pnote + body + note


def bzimage():
    setup_sects = 1
    setup = bytearray(512 * (setup_sects + 1))
    setup[0x1F1] = setup_sects
    struct.pack_into("<H", setup, 0x1FE, 0xAA55)
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x020F)
    setup[0x211] = 0x01
    struct.pack_into("<I", setup, 0x214, 0x100000)
    struct.pack_into("<I", setup, 0x230, 0x200000)
    setup[0x234] = 1
    struct.pack_into("<H", setup, 0x236, 0x1)
    struct.pack_into("<I", setup, 0x238, 255)
    struct.pack_into("<I", setup, 0x260, 0x100000)
    return bytes(setup) + b"\xf4" * 64


write("loader", "elf64-parse", bytes([0]) + elf64())
write("loader", "elf64-load", bytes([2]) + elf64())
write("loader", "pvh32-load", bytes([3]) + elf32_pvh())
write("loader", "bzimage-parse", bytes([1]) + bzimage())
write("loader", "bzimage-load", bytes([4]) + bzimage())

# pci: [op][...]: op%6 0 ECAM write (u16 off, u32), 1 ECAM read, 2 port write (u8 off, u32), 3 port read,
# 4 BAR0 write (u32 off, u64), 5 BAR0 read; (op>>3) picks the size
def op(code, size_index, *fields):
    return bytes([code | (size_index << 3)]) + b"".join(fields)


write("pci", "config", op(1, 2, struct.pack("<H", 0)) + op(0, 1, struct.pack("<HI", 4, 0x6)) + op(0, 2, struct.pack("<HI", 0x10, 0xFFFFFFFF))
      + op(1, 2, struct.pack("<H", 0x10)) + op(3, 2, bytes([0x34])) + op(2, 1, bytes([0x42]), struct.pack("<I", 0x8000)))
write("pci", "msix", op(4, 2, struct.pack("<IQ", 0x8000, 0xFEE00000)) + op(4, 2, struct.pack("<IQ", 0x8008, 0x41)) + op(4, 2, struct.pack("<IQ", 0x800C, 1))
      + op(5, 3, struct.pack("<I", 0x48000)) + op(4, 0, struct.pack("<IQ", 0x14, 0)) + op(4, 1, struct.pack("<IQ", 0x16, 0)) + op(4, 1, struct.pack("<IQ", 0x1C, 1)))
write("pci", "common", op(4, 2, struct.pack("<IQ", 0x0, 1)) + op(5, 2, struct.pack("<I", 0x4)) + op(4, 1, struct.pack("<IQ", 0x16, 1))
      + op(4, 2, struct.pack("<IQ", 0x20, 0x123456)) + op(4, 1, struct.pack("<IQ", 0x1C, 1)) + op(4, 1, struct.pack("<IQ", 0x6000, 0)) + op(5, 0, struct.pack("<I", 0x2000)))

# virtio-input: op%5: 0 config write (off, len-1, bytes), 1 status buffer (len-1, bytes), 2 post event buffer (len-1),
# 3 host events (count-1, {type u16, code u16, value u32}), 4 kick the event queue
def cfg(offset, data):
    return bytes([0, offset, len(data) - 1]) + data


write("virtio-input", "config", cfg(0, b"\x01") + cfg(1, b"\x00") + cfg(0, b"\x11") + cfg(1, b"\x01") + cfg(0, b"\x12") + cfg(1, b"\x00") + cfg(0, b"\x03"))
write("virtio-input", "status", bytes([1, 7]) + struct.pack("<HHI", 0x11, 0, 1) + bytes([1, 15]) + struct.pack("<HHIHHI", 0x11, 1, 1, 0, 0, 0))
write("virtio-input", "events", bytes([2, 7, 2, 7, 2, 7, 3, 2]) + struct.pack("<HHIHHIHHI", 3, 0, 100, 3, 1, 200, 0, 0, 0) + bytes([4]))

# vhost-user: header {request u32, flags u32 (version 1), size u32} + payload
def vu(request, payload=b"", flags=1):
    return struct.pack("<III", request, flags, len(payload)) + payload


write("vhost-user", "handshake", vu(1) + vu(3) + vu(15) + vu(16, struct.pack("<Q", 0x1)) + vu(2, struct.pack("<Q", 1 << 32)) + vu(17))
write("vhost-user", "vring", vu(3) + vu(8, struct.pack("<II", 0, 64)) + vu(10, struct.pack("<II", 0, 0)) + vu(11, struct.pack("<II", 0, 0))
      + vu(9, struct.pack("<IIQQQQ", 0, 0, 0x1000, 0x2000, 0x3000, 0)))
write("vhost-user", "config", vu(15) + vu(16, struct.pack("<Q", 1 << 9)) + vu(24, struct.pack("<III", 0, 8, 0) + bytes(8)) + vu(25, struct.pack("<III", 0, 2, 0) + b"\x01\x00"))

# rfb: client bytes after the server's version
hello = b"RFB 003.008\n" + b"\x01" + b"\x01"
write("rfb", "session", hello + b"\x00" + bytes(3) + bytes([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0]) + bytes(3)
      + b"\x02\x00" + struct.pack(">H", 4) + struct.pack(">iiii", 16, 1, -239, -223)
      + b"\x03\x00" + struct.pack(">HHHH", 0, 0, 64, 48) + b"\x04\x01\x00\x00" + struct.pack(">I", 0x61)
      + b"\x05\x01" + struct.pack(">HH", 10, 20) + b"\x06\x00\x00\x00" + struct.pack(">I", 5) + b"hello" + b"\x03\x01" + struct.pack(">HHHH", 0, 0, 64, 48))
write("rfb", "v33", b"RFB 003.003\n" + b"\x01" + b"\x05\x00" + struct.pack(">HH", 1, 1))

# lgmp: op%6: 0 patch (u32 offset, len-1, bytes), 1 poll, 2 advance (u16 ms), 3 frame, 4 cursor, 5 heartbeat + cursor request
write("lgmp", "session", bytes([5, 0, 0, 0, 0, 1, 2]) + struct.pack("<H", 200) + bytes([5, 0, 0, 0, 0, 1, 1, 3, 1, 4, 1, 1, 3, 1]))
write("lgmp", "corrupt", bytes([5, 0, 0, 0, 0, 1, 1, 3, 0]) + struct.pack("<I", 0x40) + bytes([3]) + b"\xff\xff\xff\xff" + bytes([1, 1]))

# virtio-fs: [queue][flags][readable u16][writable u16] + FUSE request
REQ = 1
unique = [1]


def fuse(opcode, nodeid, body=b"", writable=4096, queue=REQ):
    unique[0] += 1
    request = struct.pack("<IIQQIIIHH", 40 + len(body), opcode, unique[0], nodeid, 0, 0, 1, 0, 0) + body
    return struct.pack("<BBHH", queue, 0, len(request), writable) + request


INIT = fuse(26, 0, struct.pack("<IIIII", 7, 37, 128 * 1024, 0x7FFFFFFB, 0) + bytes(44))
write("virtio-fs", "read", INIT + fuse(1, 1, b"file\x00") + fuse(14, 2, struct.pack("<II", 0, 0)) + fuse(15, 2, struct.pack("<QQIIII", 1, 0, 4096, 0, 0, 0)) + fuse(3, 2, bytes(16)))
write("../repro/virtio-fs", "forget-then-readdirplus", INIT + fuse(1, 1, b"dir\x00") + fuse(27, 2, struct.pack("<II", 0, 0))
      + fuse(2, 2, struct.pack("<Q", 1), writable=0, queue=0) + fuse(44, 2, struct.pack("<QQIIII", 1, 0, 4096, 0, 0, 0)))
write("virtio-fs", "create-write", INIT + fuse(35, 1, struct.pack("<IIII", 0o102, 0o644, 0o22, 0) + b"new\x00") + fuse(16, 2, struct.pack("<QQIIQII", 1, 0, 5, 0, 0, 0, 0) + b"hello")
      + fuse(9, 1, struct.pack("<II", 0o755, 0o22) + b"sub\x00") + fuse(1, 1, b"up\x00") + fuse(5, 4, b""))
# Finding 7: names that are not UTF-8 (a file, and a directory with a file in it) left in the share for the next input.
write("../repro/virtio-fs", "names-not-utf8", INIT + fuse(35, 1, struct.pack("<IIII", 0o102, 0o644, 0, 0) + b"ne\xff\x00")
      + fuse(9, 1, struct.pack("<II", 0o755, 0) + b"d\xfe\x80\x00") + fuse(35, 3, struct.pack("<IIII", 0o102, 0o644, 0, 0) + b"\xc3\x00"))

# virtio-gpu: control queue 0, cursor queue 1
def gpu(command, body=b"", queue=0, writable=1024):
    request = struct.pack("<IIQIB3x", command, 0, 0, 0, 0) + body
    return struct.pack("<BBHH", queue, 0, len(request), writable) + request


BACKING = 0x4000000
write("virtio-gpu", "scanout", gpu(0x100) + gpu(0x10A, struct.pack("<II", 0, 0)) + gpu(0x101, struct.pack("<IIII", 1, 1, 16, 16))
      + gpu(0x106, struct.pack("<II", 1, 1) + struct.pack("<QII", BACKING, 16 * 16 * 4, 0)) + gpu(0x105, struct.pack("<IIIIQII", 0, 0, 16, 16, 0, 1, 0))
      + gpu(0x103, struct.pack("<IIIIII", 0, 0, 16, 16, 0, 1)) + gpu(0x104, struct.pack("<IIIIII", 0, 0, 16, 16, 1, 0)) + gpu(0x102, struct.pack("<II", 1, 0)))
write("virtio-gpu", "cursor", gpu(0x101, struct.pack("<IIII", 2, 1, 64, 64)) + gpu(0x106, struct.pack("<II", 2, 1) + struct.pack("<QII", BACKING, 64 * 64 * 4, 0))
      + gpu(0x105, struct.pack("<IIIIQII", 0, 0, 64, 64, 0, 2, 0)) + gpu(0x300, struct.pack("<IIIIIII", 0, 5, 5, 0, 2, 1, 1) + bytes(4), queue=1) + gpu(0x301, struct.pack("<IIIIIII", 0, 9, 9, 0, 2, 0, 0) + bytes(4), queue=1))
write("virtio-gpu", "blob-context", gpu(0x200, struct.pack("<II", 4, 0) + b"fuzz" + bytes(60)) + gpu(0x10C, struct.pack("<IIIIQQ", 3, 1, 2, 0, 0, 4096) + struct.pack("<QII", BACKING, 4096, 0))
      + gpu(0x10C, struct.pack("<IIIIQQ", 4, 2, 1, 0, 0, 4096)) + gpu(0x205, struct.pack("<IIQ", 4, 0, 0)) + gpu(0x206, struct.pack("<II", 4, 0)) + gpu(0x201))


# virtio-gpu with the cross-domain context type (capset 5): rings are guest blobs at fixed addresses below the
# driver's allocations (1 MiB up), attached to context 1; commands go in SUBMIT_3D streams.
def gpu_ctx(command, body=b"", ctx=1, flags=0, fence=0, ring=0, writable=64):
    request = struct.pack("<IIQIB3x", command, flags, fence, ctx, ring) + body
    return struct.pack("<BBHH", 0, 0, len(request), writable) + request


QUERY_RING, CHANNEL_RING = 0x10000, 0x20000
X11, WAYLAND = 0x11, 0x01


def xd(command, body=b"", ring=0):
    return struct.pack("<BBHI", command, ring, 8 + len(body), 0) + body


def submit(stream, ctx=1, flags=0, fence=0, ring=0):
    return gpu_ctx(0x207, struct.pack("<II", len(stream), 0) + stream, ctx, flags, fence, ring)


def ctx_create(ctx, capset=5, name=b"xbridge"):
    return gpu_ctx(0x200, struct.pack("<II", len(name), capset) + name.ljust(64, b"\0"), ctx)


def guest_blob(resource, address, size=4096):
    return gpu_ctx(0x10C, struct.pack("<IIIIQQ", resource, 1, 1, 1, 0, size) + struct.pack("<QII", address, size, 0), ctx=0)


def rings(ctx=1, query=1, channel=2):
    return (guest_blob(query, QUERY_RING) + gpu_ctx(0x202, struct.pack("<II", query, 0), ctx)
            + guest_blob(channel, CHANNEL_RING) + gpu_ctx(0x202, struct.pack("<II", channel, 0), ctx))


def init(channel_type, query=1, channel=2, version=1):
    return xd(1, struct.pack("<IIII", query, channel, channel_type, version))


def send(data, identifiers=()):
    ids = b"".join(struct.pack("<I", i) for i, _ in identifiers).ljust(4 * 28, b"\0")
    types = b"".join(struct.pack("<I", t) for _, t in identifiers).ljust(4 * 28, b"\0")
    return xd(4, struct.pack("<II", len(identifiers), len(data)) + ids + types + bytes(4 * 28) + data)


POLL = submit(xd(3, bytes(8)), flags=3, fence=1, ring=1)
write("virtio-gpu", "cross-domain-x11", gpu(0x108, struct.pack("<II", 0, 0)) + gpu(0x109, struct.pack("<II", 5, 0), writable=64)
      + ctx_create(1) + rings() + submit(init(X11)) + POLL + submit(send(b"\x6c\x00\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
      + submit(send(b"ab", [(1, 1)])) + submit(xd(7, struct.pack("<IIII", 0x80000001, 0, 2, 0) + b"hi")) + gpu_ctx(0x201))
write("virtio-gpu", "cross-domain-futex", ctx_create(1) + rings() + submit(init(WAYLAND)) + submit(xd(8, struct.pack("<QQII", 1, 1, 7, 0)))
      + POLL + submit(xd(9, struct.pack("<II", 7, 0))) + submit(send(b"shm", [(7, 5)])) + submit(xd(10, struct.pack("<II", 7, 0)))
      + submit(xd(11, struct.pack("<II", 3, 0))) + gpu_ctx(0x201))
write("virtio-gpu", "cross-domain-image", ctx_create(1) + rings() + submit(init(0))
      + submit(xd(2, struct.pack("<IIII", 64, 64, 0x34325241, 0)), flags=3, fence=1, ring=0)
      + gpu_ctx(0x10C, struct.pack("<IIIIQQ", 3, 2, 1, 0, 2, 16384), ctx=1) + gpu_ctx(0x202, struct.pack("<II", 3, 0))
      + gpu_ctx(0x208, struct.pack("<IIQ", 3, 0, 0)) + gpu_ctx(0x209, struct.pack("<II", 3, 0))
      + ctx_create(2) + submit(xd(1, struct.pack("<II", 1, X11)), ctx=2) + submit(init(X11)) + gpu_ctx(0x201, ctx=2) + gpu_ctx(0x201))
