/*
 * Prints "Hello from tsemu\n" on the nRF51 UART0 (the micro:bit's USB serial line), one byte at a
 * time, then sleeps forever. Register offsets are from the nRF51 Series Reference Manual (UART).
 */
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define UART0_BASE 0x40002000u
#define UART0_TASKS_STARTTX REG(UART0_BASE + 0x008)
#define UART0_EVENTS_TXDRDY REG(UART0_BASE + 0x11C)
#define UART0_ENABLE REG(UART0_BASE + 0x500)
#define UART0_PSELTXD REG(UART0_BASE + 0x50C)
#define UART0_TXD REG(UART0_BASE + 0x51C)
#define UART0_BAUDRATE REG(UART0_BASE + 0x524)

#define UART_ENABLE_ENABLED 4u
#define UART_BAUDRATE_115200 0x01D7E000u
#define MICROBIT_TX_PIN 24u

/* Writable on purpose: the message lives in .data, so loading exercises the flash-to-RAM copy. */
static char message[] = "Hello from tsemu\n";

static void uart_putc(char c) {
  UART0_EVENTS_TXDRDY = 0;
  UART0_TXD = (uint8_t)c;
  while (UART0_EVENTS_TXDRDY == 0) {
  }
}

int main(void) {
  UART0_PSELTXD = MICROBIT_TX_PIN;
  UART0_BAUDRATE = UART_BAUDRATE_115200;
  UART0_ENABLE = UART_ENABLE_ENABLED;
  UART0_TASKS_STARTTX = 1;
  for (const char *p = message; *p != '\0'; p++) uart_putc(*p);
  for (;;) __asm__ volatile("wfi");
}
