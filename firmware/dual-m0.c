/*
 * Test program of the tsemu-dual-m0 machine (two Cortex-M0 cores, one per CPU cluster; see
 * packages/emu/src/machine/dual-m0.ts). One image holds both cores' code: CPU 0 starts from the
 * vector table at 0, CPU 1 from the one at 0x1000 (dual-m0.ld).
 *
 * CPU 0: copies .data, zeroes .bss, prints "core0 up", enables IRQ 3 in its own NVIC and saves
 * what its ISER reads in `core0_iser`, then releases CPU 1 (power controller CPU1RUN = 1) and
 * counts `core0_ticks` forever, calling core0_milestone() every 4096 counts.
 * CPU 1: enables IRQ 5 in its own NVIC, saves its ISER in `core1_iser`, sets `core1_started`,
 * prints "core1 up" and counts `core1_ticks` forever.
 * Each core has its own System Control Space, so core0_iser is 0x8 and core1_iser 0x20.
 * Output goes to the tsemu-testdev's TXD (serial port 0).
 */
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define TESTDEV_TXD REG(0x40000028u)
#define POWER_CPU1RUN REG(0x40001000u)
#define NVIC_ISER REG(0xE000E100u)

extern uint32_t _estack0, _estack1, _sidata, _sdata, _edata, _sbss, _ebss;

volatile uint32_t core0_ticks;
volatile uint32_t core1_ticks;
volatile uint32_t core0_milestones;
volatile uint32_t core1_started;
volatile uint32_t core0_iser;
volatile uint32_t core1_iser;

static void print(const char *s) {
  while (*s != '\0') TESTDEV_TXD = (uint8_t)*s++;
}

/* A place for a debugger to stop CPU 0 once in a while. */
void core0_milestone(void) {
  core0_milestones++;
}

void core0_main(void) {
  print("core0 up\n");
  NVIC_ISER = 1u << 3;
  core0_iser = NVIC_ISER;
  POWER_CPU1RUN = 1u;
  for (;;) {
    core0_ticks++;
    if ((core0_ticks & 0xfffu) == 0u) core0_milestone();
  }
}

void core1_main(void) {
  NVIC_ISER = 1u << 5;
  core1_iser = NVIC_ISER;
  core1_started = 1u;
  print("core1 up\n");
  for (;;) core1_ticks++;
}

void Reset_Handler0(void) {
  uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  core0_main();
}

void Reset_Handler1(void) {
  core1_main();
}

/* Anything unexpected parks the core here, where a debugger sees it. */
void Default_Handler(void) {
  for (;;) {
  }
}

/* Initial SP, reset, NMI, HardFault; the rest of each table is never used by this program. */
__attribute__((section(".vectors0"), used)) void (*const vectors0[4])(void) = {
    (void (*)(void))&_estack0,
    Reset_Handler0,
    Default_Handler,
    Default_Handler,
};

__attribute__((section(".vectors1"), used)) void (*const vectors1[4])(void) = {
    (void (*)(void))&_estack1,
    Reset_Handler1,
    Default_Handler,
    Default_Handler,
};
