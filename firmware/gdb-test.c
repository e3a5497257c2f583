/*
 * A program to debug: the GDB acceptance tests (packages/emu/src/gdbstub/gdb-multiarch.test.ts)
 * break in its functions, step through them, read and write its variables and watch one of them.
 * Built without optimisation (-O0) so that every variable and line is where the source says.
 *
 * What it does, in order: prints "gdb-test start" on UART0 (as hello.c), computes add(2, 3),
 * counts `counter` up with count_to(3), stores into `g_neighbor` and then `g_watched` (the
 * watchpoint target), reports the counter through report() and prints "counter=N", then spins
 * in spin() forever, incrementing `spin_count` (a running guest for Ctrl-C).
 *
 * The tests find lines by the LINE-markers in comments (e.g. "LINE:watch-store"); keep each
 * marker on its statement when editing.
 */
#include <stdint.h>

#include "nrf51-regs.h"

#define MICROBIT_TX_PIN 24u

struct point {
  int x;
  int y;
  const char *name;
};

volatile int counter;
volatile int g_neighbor;
volatile int g_watched;
volatile uint32_t spin_count;
struct point g_point = {3, 4, "origin"};
int g_reported = -1;

static void uart_putc(char c) {
  UART0_EVENTS_TXDRDY = 0;
  UART0_TXD = (uint8_t)c;
  while (UART0_EVENTS_TXDRDY == 0) {
  }
}

static void uart_puts(const char *s) {
  while (*s != '\0') uart_putc(*s++);
}

/* Prints a non-negative number in decimal. */
static void uart_putu(unsigned value) {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = (char)('0' + value % 10u);
    value /= 10u;
  } while (value != 0u);
  while (n > 0) uart_putc(digits[--n]);
}

int add(int a, int b) {
  int sum = a + b; /* LINE:add-body */
  return sum;
}

void count_to(int n) {
  for (int i = 0; i < n; i++) { /* LINE:count-loop */
    counter++;                  /* LINE:count-increment */
  }
}

void touch_watched(int value) {
  g_neighbor = value + 100; /* LINE:neighbor-store */
  g_watched = value;        /* LINE:watch-store */
}

void report(int value) {
  g_reported = value; /* LINE:report-body */
  uart_puts("counter=");
  uart_putu((unsigned)value);
  uart_putc('\n');
}

void spin(void) {
  for (;;) {
    spin_count++; /* LINE:spin-body */
  }
}

int main(void) {
  UART0_PSELTXD = MICROBIT_TX_PIN;
  UART0_BAUDRATE = UART_BAUDRATE_115200;
  UART0_ENABLE = UART_ENABLE_ENABLED;
  UART0_TASKS_STARTTX = 1;
  uart_puts("gdb-test start\n");
  int result = add(2, 3); /* LINE:main-add */
  count_to(3);            /* LINE:main-count */
  touch_watched(result);  /* LINE:main-touch */
  g_point.x += result;
  report(counter); /* LINE:main-report */
  spin();
  return 0;
}
