using System.Diagnostics;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;
using Vmm.Testing.Native;
using Vmm.Testing.Time;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>
/// A C program, using our C declarations of the B7 structs, reads what our producer wrote into a shared-memory file:
/// the values and their meaning (not only the offsets) as a C client sees them.
/// </summary>
public sealed class CReaderTests
{
    private const string Reader = """
        #include <stdio.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <fcntl.h>
        #include <unistd.h>
        #define CHECK(c) do { if (!(c)) { printf("FAILED: %s (line %d)\n", #c, __LINE__); return 1; } } while (0)
        int main(int argc, char **argv) {
          int fd = open(argv[1], O_RDONLY); CHECK(fd >= 0);
          off_t size = lseek(fd, 0, SEEK_END);
          const uint8_t *mem = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0); CHECK(mem != MAP_FAILED);
          const struct LGMPHeader *h = (const void *)mem;
          CHECK(h->magic == 0x504d474c); CHECK(h->version == 6); CHECK(h->numQueues == 2); CHECK(h->timestamp != 0);
          const struct KVMFR *k = (const void *)h->udata;
          CHECK(h->udataSize >= sizeof(struct KVMFR)); CHECK(memcmp(k->magic, "KVMFR---", 8) == 0); CHECK(k->version == 20);
          CHECK(strcmp(k->hostver, "B7-vmm-test") == 0);
          const struct KVMFRRecord *r = (const void *)(h->udata + sizeof(struct KVMFR));
          CHECK(r->type == 2); CHECK(r->size == 1 + 5);
          const struct KVMFRRecord_OSInfo *os = (const void *)r->data; CHECK(os->os == 0); CHECK(strcmp(os->name, "Test") == 0);
          const struct LGMPHeaderQueue *fq = NULL, *pq = NULL;
          for (unsigned i = 0; i < h->numQueues; ++i) { if (h->queues[i].queueID == 2) fq = &h->queues[i]; if (h->queues[i].queueID == 1) pq = &h->queues[i]; }
          CHECK(fq && pq); CHECK(fq->numMessages == 3); CHECK(pq->numMessages == 21); CHECK(fq->maxTime == 1000);
          CHECK((fq->subs >> 32) == 1); CHECK(fq->count == 1); CHECK(fq->position == 1); CHECK(fq->cMsgAvail == 10);
          CHECK(fq->messagesOffset >= ((sizeof(struct LGMPHeader) + h->udataSize + 3) & ~3u));
          const struct LGMPHeaderMessage *m = (const void *)(mem + fq->messagesOffset);
          CHECK(m[0].udata == 0); CHECK(m[0].pendingSubs == 1); CHECK(m[0].offset % 4096 == 0);
          const struct KVMFRFrame *f = (const void *)(mem + m[0].offset);
          CHECK(f->type == 1); CHECK(f->frameWidth == 64); CHECK(f->frameHeight == 32); CHECK(f->screenWidth == 64);
          CHECK(f->dataWidth == 64); CHECK(f->dataHeight == 32); CHECK(f->stride == 64); CHECK(f->pitch == 256);
          CHECK(f->offset == 4092); CHECK(f->frameSerial == 1); CHECK(f->damageRectsCount == 0); CHECK(f->flags == 0);
          const struct FrameBuffer *fb = (const void *)((const uint8_t *)f + f->offset);
          CHECK(((uintptr_t)fb->data & 4095) == 0); CHECK(fb->wp == 32 * 256);
          for (unsigned i = 0; i < 32 * 256; ++i) CHECK(fb->data[i] == (uint8_t)(i * 7));
          const struct LGMPHeaderMessage *pm = (const void *)(mem + pq->messagesOffset);
          CHECK(pq->count == 2); CHECK(pm[0].udata == 0x4); CHECK(pm[1].udata == (0x1 | 0x2)); /* SHAPE, then POSITION|VISIBLE */
          const struct KVMFRCursor *c = (const void *)(mem + pm[0].offset);
          CHECK(c->type == 0); CHECK(c->width == 2); CHECK(c->height == 2); CHECK(c->pitch == 8); CHECK(c->hx == 1); CHECK(c->hy == 1);
          CHECK(pm[0].size >= sizeof(struct KVMFRCursor) + 2 * 8);
          const uint8_t *shape = (const uint8_t *)(c + 1); for (int i = 0; i < 16; ++i) CHECK(shape[i] == 0xA0 + i);
          const struct KVMFRCursor *p = (const void *)(mem + pm[1].offset);
          CHECK(pm[1].size == sizeof(struct KVMFRCursor)); CHECK(p->x == 99); CHECK(p->y == -6); /* top-left = hotspot - (1,1) */
          printf("OK\n");
          return 0;
        }
        """;

    [Fact]
    public void ACProgramReadsWhatTheProducerWrote()
    {
        string? compiler = CHeaderCheck.FindCompiler();
        if (compiler is null)
        {
            Assert.Skip("gcc is not installed: the C reader cannot be built (apt-get install gcc).");
        }

        string directory = Directory.CreateTempSubdirectory("vmm-lgmp-creader-").FullName;
        try
        {
            string shm = Path.Combine(directory, "looking-glass");
            using (SharedMemoryFile file = SharedMemoryFile.OpenOrCreate(shm, 16 << 20))
            using (SharedRegion region = SharedRegion.Over(file))
            {
                var time = new ManualTimeProvider();
                var options = new KvmfrProducerOptions { HostVersion = "B7-vmm-test", OsInfo = new KvmfrOsInfo(KvmfrOs.Linux, "Test"), HeartbeatThread = false };
                using var producer = new KvmfrProducer(region, options, time);
                var consumer = new KvmfrConsumer(region, new KvmfrConsumerOptions(), time);
                var handler = new RecordingHandler();
                consumer.Poll(handler);
                time.AdvanceMs(200);
                producer.Heartbeat();
                consumer.Poll(handler);
                consumer.Poll(handler);
                Assert.Equal(KvmfrConsumerState.Connected, consumer.State);
                producer.Heartbeat();
                byte[] pixels = [.. Enumerable.Range(0, 64 * 32 * 4).Select(i => (byte)(i * 7))];
                Assert.Equal(KvmfrSubmitResult.Posted, producer.SubmitFrame(64, 32, FrameType.Bgra, pixels, 256, []));
                Assert.True(producer.SetCursorShape(CursorType.Color, 2, 2, 8, 1, 1, [.. Enumerable.Range(0xA0, 16).Select(i => (byte)i)]));
                producer.SetCursorPosition(100, -5, visible: true);
            }

            string source = Path.Combine(directory, "reader.c");
            string binary = Path.Combine(directory, "reader");
            File.WriteAllText(source, LayoutTests.NewCheck().Source + Reader);
            (int compiled, string compileOutput) = Run(compiler, "-std=gnu11", "-O1", "-o", binary, source);
            Assert.True(compiled == 0, compileOutput);
            (int exit, string output) = Run(binary, shm);
            Assert.True(exit == 0, output);
            Assert.Equal("OK", output.Trim());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
