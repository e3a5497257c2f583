/*
 * Start-up code for our nRF51 (Cortex-M0) test programs: the vector table, and a reset handler
 * that copies initialised data from flash to RAM, zeroes .bss and calls main().
 */
#include <stdint.h>

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);

void Reset_Handler(void);

/* Any exception or interrupt we do not expect: stop here, where a debugger can see it. */
void Default_Handler(void) {
  for (;;) {
  }
}

void Reset_Handler(void) {
  uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  main();
  for (;;) __asm__ volatile("wfi");
}

/* Cortex-M0: initial SP, 15 system exception vectors, then the nRF51's 32 interrupts. */
#define SYSTEM_VECTORS 16
#define NRF51_IRQS 32
__attribute__((section(".vectors"), used)) void (*const vector_table[SYSTEM_VECTORS + NRF51_IRQS])(void) = {
    [0] = (void (*)(void))&_estack,
    [1] = Reset_Handler,
    [2 ... SYSTEM_VECTORS + NRF51_IRQS - 1] = Default_Handler,
};
