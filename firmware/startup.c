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

/*
 * Handlers a program may define: each name is a weak alias of Default_Handler, so a program
 * overrides one just by defining a function with that name.
 */
#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void HardFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT; /* the nRF51 has no SysTick; the slot exists anyway */
void POWER_CLOCK_IRQHandler(void) WEAK_DEFAULT;
void RADIO_IRQHandler(void) WEAK_DEFAULT;
void UART0_IRQHandler(void) WEAK_DEFAULT;
void SPI0_TWI0_IRQHandler(void) WEAK_DEFAULT;
void SPI1_TWI1_IRQHandler(void) WEAK_DEFAULT;
void GPIOTE_IRQHandler(void) WEAK_DEFAULT;
void ADC_IRQHandler(void) WEAK_DEFAULT;
void TIMER0_IRQHandler(void) WEAK_DEFAULT;
void TIMER1_IRQHandler(void) WEAK_DEFAULT;
void TIMER2_IRQHandler(void) WEAK_DEFAULT;
void RTC0_IRQHandler(void) WEAK_DEFAULT;
void TEMP_IRQHandler(void) WEAK_DEFAULT;
void RNG_IRQHandler(void) WEAK_DEFAULT;
void ECB_IRQHandler(void) WEAK_DEFAULT;
void CCM_AAR_IRQHandler(void) WEAK_DEFAULT;
void WDT_IRQHandler(void) WEAK_DEFAULT;
void RTC1_IRQHandler(void) WEAK_DEFAULT;
void QDEC_IRQHandler(void) WEAK_DEFAULT;
void LPCOMP_IRQHandler(void) WEAK_DEFAULT;
void SWI0_IRQHandler(void) WEAK_DEFAULT;
void SWI1_IRQHandler(void) WEAK_DEFAULT;
void SWI2_IRQHandler(void) WEAK_DEFAULT;
void SWI3_IRQHandler(void) WEAK_DEFAULT;
void SWI4_IRQHandler(void) WEAK_DEFAULT;
void SWI5_IRQHandler(void) WEAK_DEFAULT;

/*
 * Cortex-M0: initial SP, 15 system exception vectors (reserved ones 0: never taken), then the
 * nRF51's 32 interrupts, numbered by peripheral ID (unused IDs park in Default_Handler).
 */
__attribute__((section(".vectors"), used)) void (*const vector_table[16 + 32])(void) = {
    (void (*)(void))&_estack,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    0, 0, 0, 0, 0, 0, 0, /* 4-10 reserved on ARMv6-M */
    SVC_Handler,
    0, 0, /* 12-13 reserved */
    PendSV_Handler,
    SysTick_Handler,
    /* IRQ 0-31 */
    POWER_CLOCK_IRQHandler, /* 0 */
    RADIO_IRQHandler,
    UART0_IRQHandler,
    SPI0_TWI0_IRQHandler,
    SPI1_TWI1_IRQHandler,
    Default_Handler, /* 5: no peripheral */
    GPIOTE_IRQHandler,
    ADC_IRQHandler,
    TIMER0_IRQHandler, /* 8 */
    TIMER1_IRQHandler,
    TIMER2_IRQHandler,
    RTC0_IRQHandler,
    TEMP_IRQHandler, /* 12 */
    RNG_IRQHandler,
    ECB_IRQHandler,
    CCM_AAR_IRQHandler,
    WDT_IRQHandler, /* 16 */
    RTC1_IRQHandler,
    QDEC_IRQHandler,
    LPCOMP_IRQHandler,
    SWI0_IRQHandler, /* 20 */
    SWI1_IRQHandler,
    SWI2_IRQHandler,
    SWI3_IRQHandler,
    SWI4_IRQHandler,
    SWI5_IRQHandler,
    Default_Handler, /* 26-31: no peripheral */
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
};
