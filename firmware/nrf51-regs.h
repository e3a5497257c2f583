/*
 * Register addresses and field values of the nRF51822 (micro:bit v1) that our test programs use,
 * written from the nRF51 Series Reference Manual v3.0 (register tables of each peripheral) and the
 * ARMv6-M Architecture Reference Manual (NVIC). Only what the programs need is here.
 *
 * Conventions: NAME is a volatile 32-bit lvalue; NAME_n(i) is element i of a register array.
 * Tasks are started by writing 1; events are set by hardware and cleared by writing 0.
 */
#ifndef NRF51_REGS_H
#define NRF51_REGS_H

#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* ---- CLOCK (0x40000000, shared with POWER and MPU) ---- */
#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART REG(CLOCK_BASE + 0x000)
#define CLOCK_TASKS_LFCLKSTART REG(CLOCK_BASE + 0x008)
#define CLOCK_EVENTS_HFCLKSTARTED REG(CLOCK_BASE + 0x100)
#define CLOCK_EVENTS_LFCLKSTARTED REG(CLOCK_BASE + 0x104)
#define CLOCK_HFCLKSTAT REG(CLOCK_BASE + 0x40C)
#define CLOCK_LFCLKSTAT REG(CLOCK_BASE + 0x418)
#define CLOCK_LFCLKSRC REG(CLOCK_BASE + 0x518)
#define CLOCK_HFCLKSTAT_SRC_XTAL (1u << 0)
#define CLOCK_STAT_STATE_RUNNING (1u << 16) /* same bit in HFCLKSTAT and LFCLKSTAT */
#define CLOCK_LFCLKSTAT_SRC_MASK 3u
#define CLOCK_LFCLKSRC_RC 0u

/* ---- FICR (factory information, read-only) ---- */
#define FICR_BASE 0x10000000u
#define FICR_CODEPAGESIZE REG(FICR_BASE + 0x010)
#define FICR_CODESIZE REG(FICR_BASE + 0x014)

/* ---- GPIO P0 ---- */
#define GPIO_BASE 0x50000000u
#define GPIO_OUT REG(GPIO_BASE + 0x504)
#define GPIO_OUTSET REG(GPIO_BASE + 0x508)
#define GPIO_OUTCLR REG(GPIO_BASE + 0x50C)
#define GPIO_IN REG(GPIO_BASE + 0x510)
#define GPIO_DIR REG(GPIO_BASE + 0x514)
#define GPIO_DIRSET REG(GPIO_BASE + 0x518)
#define GPIO_DIRCLR REG(GPIO_BASE + 0x51C)
#define GPIO_PIN_CNF(n) REG(GPIO_BASE + 0x700 + 4u * (n))
#define PIN_CNF_DIR_OUTPUT (1u << 0)
#define PIN_CNF_INPUT_DISCONNECT (1u << 1) /* 0 = input buffer connected */
#define PIN_CNF_PULLDOWN (1u << 2)
#define PIN_CNF_PULLUP (3u << 2)
#define PIN_CNF_DRIVE_S0D1 (6u << 8) /* standard 0, disconnected 1: open drain, as I2C needs */
#define PIN_CNF_RESET PIN_CNF_INPUT_DISCONNECT /* the reset value of every PIN_CNF */

/* ---- GPIOTE ---- */
#define GPIOTE_BASE 0x40006000u
#define GPIOTE_TASKS_OUT(n) REG(GPIOTE_BASE + 0x000 + 4u * (n))
#define GPIOTE_CONFIG(n) REG(GPIOTE_BASE + 0x510 + 4u * (n))
#define GPIOTE_CONFIG_MODE_TASK 3u
#define GPIOTE_CONFIG_PSEL(pin) ((uint32_t)(pin) << 8)
#define GPIOTE_CONFIG_POLARITY_TOGGLE (3u << 16)
#define GPIOTE_CONFIG_OUTINIT_HIGH (1u << 20)

/* ---- PPI ---- */
#define PPI_BASE 0x4001F000u
#define PPI_CHEN REG(PPI_BASE + 0x500)
#define PPI_CHENSET REG(PPI_BASE + 0x504)
#define PPI_CHENCLR REG(PPI_BASE + 0x508)
#define PPI_CH_EEP(n) REG(PPI_BASE + 0x510 + 8u * (n))
#define PPI_CH_TEP(n) REG(PPI_BASE + 0x514 + 8u * (n))

/* ---- TIMER0-2 (same layout; TIMER1/2 are at most 16-bit on the nRF51) ---- */
#define TIMER0_BASE 0x40008000u
#define TIMER1_BASE 0x40009000u
#define TIMER2_BASE 0x4000A000u
#define TIMER_TASKS_START(b) REG((b) + 0x000)
#define TIMER_TASKS_STOP(b) REG((b) + 0x004)
#define TIMER_TASKS_CLEAR(b) REG((b) + 0x00C)
#define TIMER_TASKS_CAPTURE(b, n) REG((b) + 0x040 + 4u * (n))
#define TIMER_EVENTS_COMPARE(b, n) REG((b) + 0x140 + 4u * (n))
#define TIMER_SHORTS(b) REG((b) + 0x200)
#define TIMER_INTENSET(b) REG((b) + 0x304)
#define TIMER_INTENCLR(b) REG((b) + 0x308)
#define TIMER_MODE(b) REG((b) + 0x504)
#define TIMER_BITMODE(b) REG((b) + 0x508)
#define TIMER_PRESCALER(b) REG((b) + 0x510)
#define TIMER_CC(b, n) REG((b) + 0x540 + 4u * (n))
#define TIMER_MODE_TIMER 0u
#define TIMER_BITMODE_16 0u
#define TIMER_BITMODE_32 3u
#define TIMER_SHORTS_COMPARE0_CLEAR (1u << 0)
#define TIMER_SHORTS_COMPARE0_STOP (1u << 8)
#define TIMER_INT_COMPARE0 (1u << 16)

/* ---- RTC0-1 (32768 Hz LFCLK, 24-bit COUNTER) ---- */
#define RTC1_BASE 0x40011000u
#define RTC_TASKS_START(b) REG((b) + 0x000)
#define RTC_TASKS_STOP(b) REG((b) + 0x004)
#define RTC_TASKS_CLEAR(b) REG((b) + 0x008)
#define RTC_EVENTS_COMPARE(b, n) REG((b) + 0x140 + 4u * (n))
#define RTC_EVTENSET(b) REG((b) + 0x344)
#define RTC_EVTENCLR(b) REG((b) + 0x348)
#define RTC_COUNTER(b) REG((b) + 0x504)
#define RTC_PRESCALER(b) REG((b) + 0x508)
#define RTC_CC(b, n) REG((b) + 0x540 + 4u * (n))
#define RTC_EVT_COMPARE0 (1u << 16)
#define RTC_COUNTER_MASK 0x00FFFFFFu

/* ---- RNG ---- */
#define RNG_BASE 0x4000D000u
#define RNG_TASKS_START REG(RNG_BASE + 0x000)
#define RNG_TASKS_STOP REG(RNG_BASE + 0x004)
#define RNG_EVENTS_VALRDY REG(RNG_BASE + 0x100)
#define RNG_VALUE REG(RNG_BASE + 0x508)

/* ---- TEMP (result in 0.25 degC units, signed) ---- */
#define TEMP_BASE 0x4000C000u
#define TEMP_TASKS_START REG(TEMP_BASE + 0x000)
#define TEMP_TASKS_STOP REG(TEMP_BASE + 0x004)
#define TEMP_EVENTS_DATARDY REG(TEMP_BASE + 0x100)
#define TEMP_TEMP REG(TEMP_BASE + 0x508)

/* ---- ADC (10-bit SAR) ---- */
#define ADC_BASE 0x40007000u
#define ADC_TASKS_START REG(ADC_BASE + 0x000)
#define ADC_EVENTS_END REG(ADC_BASE + 0x100)
#define ADC_BUSY REG(ADC_BASE + 0x400)
#define ADC_ENABLE REG(ADC_BASE + 0x500)
#define ADC_CONFIG REG(ADC_BASE + 0x504)
#define ADC_RESULT REG(ADC_BASE + 0x508)
#define ADC_CONFIG_RES_10BIT 2u
#define ADC_CONFIG_INPSEL_AIN_ONE_THIRD (2u << 2)
#define ADC_CONFIG_REFSEL_VBG (0u << 5)
#define ADC_CONFIG_PSEL_AIN(n) ((1u << (n)) << 8) /* one bit per analog input */
#define ADC_AIN_P0_03 4u                           /* AIN4 is on P0.03 (micro:bit pin 0) */

/* ---- ECB (AES-128 encryption of one block; data structure in RAM) ---- */
#define ECB_BASE 0x4000E000u
#define ECB_TASKS_STARTECB REG(ECB_BASE + 0x000)
#define ECB_EVENTS_ENDECB REG(ECB_BASE + 0x100)
#define ECB_EVENTS_ERRORECB REG(ECB_BASE + 0x104)
#define ECB_ECBDATAPTR REG(ECB_BASE + 0x504)

/* ---- NVMC ---- */
#define NVMC_BASE 0x4001E000u
#define NVMC_READY REG(NVMC_BASE + 0x400)
#define NVMC_CONFIG REG(NVMC_BASE + 0x504)
#define NVMC_ERASEPAGE REG(NVMC_BASE + 0x508)
#define NVMC_CONFIG_REN 0u
#define NVMC_CONFIG_WEN 1u
#define NVMC_CONFIG_EEN 2u

/* ---- TWI0 (I2C master; shares ID 3 with SPI0) ---- */
#define TWI0_BASE 0x40003000u
#define TWI_TASKS_STARTRX REG(TWI0_BASE + 0x000)
#define TWI_TASKS_STARTTX REG(TWI0_BASE + 0x008)
#define TWI_TASKS_STOP REG(TWI0_BASE + 0x014)
#define TWI_EVENTS_STOPPED REG(TWI0_BASE + 0x104)
#define TWI_EVENTS_RXDREADY REG(TWI0_BASE + 0x108)
#define TWI_EVENTS_TXDSENT REG(TWI0_BASE + 0x11C)
#define TWI_EVENTS_ERROR REG(TWI0_BASE + 0x124)
#define TWI_EVENTS_BB REG(TWI0_BASE + 0x138)
#define TWI_SHORTS REG(TWI0_BASE + 0x200)
#define TWI_ERRORSRC REG(TWI0_BASE + 0x4C4)
#define TWI_ENABLE REG(TWI0_BASE + 0x500)
#define TWI_PSELSCL REG(TWI0_BASE + 0x508)
#define TWI_PSELSDA REG(TWI0_BASE + 0x50C)
#define TWI_RXD REG(TWI0_BASE + 0x518)
#define TWI_TXD REG(TWI0_BASE + 0x51C)
#define TWI_FREQUENCY REG(TWI0_BASE + 0x524)
#define TWI_ADDRESS REG(TWI0_BASE + 0x588)
#define TWI_ENABLE_ENABLED 5u
#define TWI_FREQUENCY_K100 0x01980000u
#define TWI_SHORTS_BB_STOP (1u << 1)
#define TWI_ERRORSRC_ANACK (1u << 1) /* write 1 to clear */

/* ---- UART0 ---- */
#define UART0_BASE 0x40002000u
#define UART0_TASKS_STARTTX REG(UART0_BASE + 0x008)
#define UART0_EVENTS_TXDRDY REG(UART0_BASE + 0x11C)
#define UART0_ENABLE REG(UART0_BASE + 0x500)
#define UART0_PSELTXD REG(UART0_BASE + 0x50C)
#define UART0_TXD REG(UART0_BASE + 0x51C)
#define UART0_BAUDRATE REG(UART0_BASE + 0x524)
#define UART_ENABLE_ENABLED 4u
#define UART_BAUDRATE_115200 0x01D7E000u

/* ---- RADIO ---- */
#define RADIO_BASE 0x40001000u
#define RADIO_TASKS_TXEN REG(RADIO_BASE + 0x000)
#define RADIO_TASKS_START REG(RADIO_BASE + 0x008)
#define RADIO_TASKS_DISABLE REG(RADIO_BASE + 0x010)
#define RADIO_EVENTS_READY REG(RADIO_BASE + 0x100)
#define RADIO_EVENTS_ADDRESS REG(RADIO_BASE + 0x104)
#define RADIO_EVENTS_PAYLOAD REG(RADIO_BASE + 0x108)
#define RADIO_EVENTS_END REG(RADIO_BASE + 0x10C)
#define RADIO_EVENTS_DISABLED REG(RADIO_BASE + 0x110)
#define RADIO_SHORTS REG(RADIO_BASE + 0x200)
#define RADIO_PACKETPTR REG(RADIO_BASE + 0x504)
#define RADIO_FREQUENCY REG(RADIO_BASE + 0x508)
#define RADIO_TXPOWER REG(RADIO_BASE + 0x50C)
#define RADIO_MODE REG(RADIO_BASE + 0x510)
#define RADIO_PCNF0 REG(RADIO_BASE + 0x514)
#define RADIO_PCNF1 REG(RADIO_BASE + 0x518)
#define RADIO_BASE0 REG(RADIO_BASE + 0x51C)
#define RADIO_PREFIX0 REG(RADIO_BASE + 0x524)
#define RADIO_TXADDRESS REG(RADIO_BASE + 0x52C)
#define RADIO_CRCCNF REG(RADIO_BASE + 0x534)
#define RADIO_CRCPOLY REG(RADIO_BASE + 0x538)
#define RADIO_CRCINIT REG(RADIO_BASE + 0x53C)
#define RADIO_STATE REG(RADIO_BASE + 0x550)
#define RADIO_POWER REG(RADIO_BASE + 0xFFC)
#define RADIO_MODE_NRF_1MBIT 0u
#define RADIO_STATE_DISABLED 0u
#define RADIO_STATE_TXIDLE 10u

/* ---- WDT ---- */
#define WDT_BASE 0x40010000u
#define WDT_RUNSTATUS REG(WDT_BASE + 0x400)
#define WDT_CRV REG(WDT_BASE + 0x504)

/* ---- NVIC (ARMv6-M System Control Space) ---- */
#define NVIC_ISER REG(0xE000E100u)
#define NVIC_ICER REG(0xE000E180u)
#define NVIC_ISPR REG(0xE000E200u)
#define NVIC_ICPR REG(0xE000E280u)

/* Interrupt numbers = peripheral IDs ((base >> 12) & 0x1F). */
#define IRQ_TIMER1 9u
#define IRQ_SWI0 20u

#endif
