/*
 * periph-test: self-checks of the nRF51822 peripherals on a micro:bit v1, each testing behaviour
 * the nRF51 Series Reference Manual states. The report goes to UART0 (TX on P0.24, 115200 baud),
 * one line per check, then a summary:
 *
 *   BEGIN periph-test
 *   TEST <NAME> PASS
 *   TEST <NAME> FAIL <detail>        (detail starts with "timeout" when an event never came)
 *   DONE <passed>/<total>
 *
 * Every wait has a bound (TIMEOUT_LOOPS), so a missing event gives a FAIL line instead of a hang;
 * a HardFault during a check gives "FAIL hardfault pc=..." and the remaining checks still run.
 */
#include <stdint.h>

#include "nrf51-regs.h"

/* Board wiring (micro:bit v1). */
#define MICROBIT_TX_PIN 24u
#define I2C_SCL_PIN 0u
#define I2C_SDA_PIN 30u
#define MMA8653_ADDR 0x1Du /* accelerometer; WHO_AM_I register 0x0D reads 0x5A */
#define MAG3110_ADDR 0x0Eu /* magnetometer; WHO_AM_I register 0x07 reads 0xC4 */
#define ABSENT_I2C_ADDR 0x42u
/* Edge-connector pins with nothing else on the board attached to them. */
#define GPIO_TEST_PIN 16u   /* micro:bit pin 16 */
#define GPIOTE_TEST_PIN 18u /* micro:bit pin 8 */

/* Flash page the NVMC check may erase: the last 1 KiB page, far above this program. */
#define NVMC_TEST_PAGE 0x3FC00u
#define FLASH_PAGE_WORDS 256u

/*
 * Upper bound on polling loops: at 16 MHz a loop takes several cycles, so this is more than
 * 100 ms, longer than any operation checked here (a flash page erase takes about 21 ms).
 */
#define TIMEOUT_LOOPS 500000u

/* One RTC tick at prescaler 0 is 1/32768 s: 1 ms is 32.768 ticks. */
#define RTC_TICKS_1MS_MIN 30u
#define RTC_TICKS_1MS_MAX 36u

/* ------------------------------------------------------------------------------------------ */
/* Output */

static int uart_timed_out; /* set when a byte's TXDRDY never came; reported by the UART check */

static void uart_init(void) {
  UART0_PSELTXD = MICROBIT_TX_PIN;
  UART0_BAUDRATE = UART_BAUDRATE_115200;
  UART0_ENABLE = UART_ENABLE_ENABLED;
  UART0_TASKS_STARTTX = 1;
}

static void put_char(char c) {
  UART0_EVENTS_TXDRDY = 0;
  UART0_TXD = (uint8_t)c;
  for (uint32_t i = 0; i < TIMEOUT_LOOPS; i++) {
    if (UART0_EVENTS_TXDRDY != 0) return;
  }
  uart_timed_out = 1;
}

static void put_str(const char *s) {
  while (*s != '\0') put_char(*s++);
}

static void put_hex(uint32_t v) {
  put_str("0x");
  for (int shift = 28; shift >= 0; shift -= 4) put_char("0123456789abcdef"[(v >> shift) & 0xFu]);
}

static void put_dec(int32_t v) {
  char digits[11];
  int n = 0;
  /* Work in unsigned so that INT32_MIN negates without overflow. */
  uint32_t u = (uint32_t)v;
  if (v < 0) {
    put_char('-');
    u = 0u - u;
  }
  do {
    digits[n++] = (char)('0' + u % 10u);
    u /= 10u;
  } while (u != 0);
  while (n > 0) put_char(digits[--n]);
}

/* The rest of a "TEST <NAME> " line for a failed check; each returns 0 (the check's result). */
static int fail(const char *detail) {
  put_str("FAIL ");
  put_str(detail);
  put_char('\n');
  return 0;
}

static int fail_timeout(const char *what) {
  put_str("FAIL timeout ");
  put_str(what);
  put_char('\n');
  return 0;
}

static int fail_hex(const char *what, uint32_t value) {
  put_str("FAIL ");
  put_str(what);
  put_char('=');
  put_hex(value);
  put_char('\n');
  return 0;
}

static int fail_dec(const char *what, int32_t value) {
  put_str("FAIL ");
  put_str(what);
  put_char('=');
  put_dec(value);
  put_char('\n');
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers */

/* Polls a register (an event, a status, a RAM counter) until it is non-zero; 0 on timeout. */
static int wait_nonzero(volatile uint32_t *reg) {
  for (uint32_t i = 0; i < TIMEOUT_LOOPS; i++) {
    if (*reg != 0) return 1;
  }
  return 0;
}

/* A short pause, so that a pin level or a pull has settled before IN is sampled. */
static void delay_loops(uint32_t n) {
  for (volatile uint32_t i = 0; i < n; i++) {
  }
}

static uint32_t address_of(volatile uint32_t *reg) { return (uint32_t)(uintptr_t)reg; }

/* ------------------------------------------------------------------------------------------ */
/* Checks: each returns 1 on success, or prints its FAIL detail and returns 0. */

/* CLOCK: the crystal HFCLK and the RC LFCLK start, with their STARTED events and status bits. */
static int check_clock(void) {
  CLOCK_EVENTS_HFCLKSTARTED = 0;
  CLOCK_TASKS_HFCLKSTART = 1;
  if (!wait_nonzero(&CLOCK_EVENTS_HFCLKSTARTED)) return fail_timeout("HFCLKSTARTED");
  uint32_t hf = CLOCK_HFCLKSTAT;
  const uint32_t hf_want = CLOCK_HFCLKSTAT_SRC_XTAL | CLOCK_STAT_STATE_RUNNING;
  if ((hf & hf_want) != hf_want) return fail_hex("HFCLKSTAT", hf);

  /* LFCLKSRC is only taken at LFCLKSTART, so it is written first. */
  CLOCK_LFCLKSRC = CLOCK_LFCLKSRC_RC;
  CLOCK_EVENTS_LFCLKSTARTED = 0;
  CLOCK_TASKS_LFCLKSTART = 1;
  if (!wait_nonzero(&CLOCK_EVENTS_LFCLKSTARTED)) return fail_timeout("LFCLKSTARTED");
  uint32_t lf = CLOCK_LFCLKSTAT;
  if ((lf & CLOCK_STAT_STATE_RUNNING) == 0 || (lf & CLOCK_LFCLKSTAT_SRC_MASK) != CLOCK_LFCLKSRC_RC)
    return fail_hex("LFCLKSTAT", lf);
  return 1;
}

/* FICR: the nRF51822-QFAA has 256 pages of 1 KiB. */
static int check_ficr(void) {
  if (FICR_CODEPAGESIZE != 1024u) return fail_hex("CODEPAGESIZE", FICR_CODEPAGESIZE);
  if (FICR_CODESIZE != 256u) return fail_hex("CODESIZE", FICR_CODESIZE);
  return 1;
}

/* GPIO: OUTSET/OUTCLR show in OUT and, with the input buffer connected, in IN; DIR mirrors PIN_CNF. */
static int check_gpio(void) {
  const uint32_t pin = GPIO_TEST_PIN, bit = 1u << GPIO_TEST_PIN;
  int ok = 0;
  GPIO_PIN_CNF(pin) = PIN_CNF_DIR_OUTPUT; /* output, input buffer connected, no pull */
  GPIO_OUTSET = bit;
  delay_loops(10);
  if ((GPIO_OUT & bit) == 0) {
    fail_hex("OUT after OUTSET", GPIO_OUT);
  } else if ((GPIO_IN & bit) == 0) {
    fail_hex("IN after OUTSET", GPIO_IN);
  } else {
    GPIO_OUTCLR = bit;
    delay_loops(10);
    if ((GPIO_OUT & bit) != 0) {
      fail_hex("OUT after OUTCLR", GPIO_OUT);
    } else if ((GPIO_IN & bit) != 0) {
      fail_hex("IN after OUTCLR", GPIO_IN);
    } else {
      GPIO_DIRCLR = bit;
      if ((GPIO_PIN_CNF(pin) & PIN_CNF_DIR_OUTPUT) != 0) {
        fail_hex("PIN_CNF after DIRCLR", GPIO_PIN_CNF(pin));
      } else if ((GPIO_DIR & bit) != 0) {
        fail_hex("DIR after DIRCLR", GPIO_DIR);
      } else {
        GPIO_DIRSET = bit;
        if ((GPIO_PIN_CNF(pin) & PIN_CNF_DIR_OUTPUT) == 0) {
          fail_hex("PIN_CNF after DIRSET", GPIO_PIN_CNF(pin));
        } else {
          /* And the other way round: a PIN_CNF write shows in DIR. */
          GPIO_PIN_CNF(pin) = 0;
          if ((GPIO_DIR & bit) != 0)
            fail_hex("DIR after PIN_CNF input", GPIO_DIR);
          else
            ok = 1;
        }
      }
    }
  }
  GPIO_PIN_CNF(pin) = PIN_CNF_RESET;
  return ok;
}

/* GPIO pulls: an input with nothing driving it reads its pull-up or pull-down. */
static int check_gpio_pull(void) {
  const uint32_t pin = GPIO_TEST_PIN, bit = 1u << GPIO_TEST_PIN;
  int ok = 0;
  GPIO_PIN_CNF(pin) = PIN_CNF_PULLUP; /* input, buffer connected */
  delay_loops(100);
  if ((GPIO_IN & bit) == 0) {
    fail("pull-up reads 0");
  } else {
    GPIO_PIN_CNF(pin) = PIN_CNF_PULLDOWN;
    delay_loops(100);
    if ((GPIO_IN & bit) != 0)
      fail("pull-down reads 1");
    else
      ok = 1;
  }
  GPIO_PIN_CNF(pin) = PIN_CNF_RESET;
  return ok;
}

/* GPIOTE channel 0 in task mode with toggle polarity on GPIOTE_TEST_PIN, starting low. */
static void gpiote_task_on_test_pin(void) {
  /* The input buffer stays connected so that IN shows the level GPIOTE drives. */
  GPIO_PIN_CNF(GPIOTE_TEST_PIN) = PIN_CNF_DIR_OUTPUT;
  GPIOTE_CONFIG(0) = GPIOTE_CONFIG_MODE_TASK | GPIOTE_CONFIG_PSEL(GPIOTE_TEST_PIN) |
                     GPIOTE_CONFIG_POLARITY_TOGGLE; /* OUTINIT low */
  delay_loops(10);
}

static void gpiote_release_test_pin(void) {
  GPIOTE_CONFIG(0) = 0;
  GPIO_PIN_CNF(GPIOTE_TEST_PIN) = PIN_CNF_RESET;
}

static int gpiote_test_pin_high(void) {
  delay_loops(10);
  return (GPIO_IN & (1u << GPIOTE_TEST_PIN)) != 0;
}

/* GPIOTE: task mode takes over the pin at OUTINIT; each TASKS_OUT toggles it. */
static int check_gpiote(void) {
  int ok = 0;
  gpiote_task_on_test_pin();
  if (gpiote_test_pin_high()) {
    fail("pin high after CONFIG with OUTINIT low");
  } else {
    GPIOTE_TASKS_OUT(0) = 1;
    if (!gpiote_test_pin_high()) {
      fail("pin low after first TASKS_OUT");
    } else {
      GPIOTE_TASKS_OUT(0) = 1;
      if (gpiote_test_pin_high())
        fail("pin high after second TASKS_OUT");
      else
        ok = 1;
    }
  }
  gpiote_release_test_pin();
  return ok;
}

/* TIMER2 as a one-shot: 16-bit, 1 MHz, COMPARE[0] after 100 us, stopped by its own short. */
static void timer2_one_shot(void) {
  TIMER_TASKS_STOP(TIMER2_BASE) = 1;
  TIMER_TASKS_CLEAR(TIMER2_BASE) = 1;
  TIMER_MODE(TIMER2_BASE) = TIMER_MODE_TIMER;
  TIMER_BITMODE(TIMER2_BASE) = TIMER_BITMODE_16;
  TIMER_PRESCALER(TIMER2_BASE) = 4; /* 16 MHz / 2^4 = 1 MHz */
  TIMER_CC(TIMER2_BASE, 0) = 100;
  TIMER_SHORTS(TIMER2_BASE) = TIMER_SHORTS_COMPARE0_STOP;
  TIMER_EVENTS_COMPARE(TIMER2_BASE, 0) = 0;
  TIMER_TASKS_START(TIMER2_BASE) = 1;
}

/*
 * PPI: channel 0 wires TIMER2 COMPARE[0] to GPIOTE TASKS_OUT[0], so the timer toggles the pin
 * without the CPU; with the channel disabled the same compare leaves the pin alone.
 */
static int check_ppi(void) {
  int ok = 0;
  gpiote_task_on_test_pin();
  PPI_CH_EEP(0) = address_of(&TIMER_EVENTS_COMPARE(TIMER2_BASE, 0));
  PPI_CH_TEP(0) = address_of(&GPIOTE_TASKS_OUT(0));
  PPI_CHENSET = 1u << 0;
  if ((PPI_CHEN & 1u) == 0) {
    fail_hex("CHEN after CHENSET", PPI_CHEN);
  } else if (gpiote_test_pin_high()) {
    fail("pin high before the timer ran");
  } else {
    timer2_one_shot();
    if (!wait_nonzero(&TIMER_EVENTS_COMPARE(TIMER2_BASE, 0))) {
      fail_timeout("TIMER2 COMPARE[0]");
    } else if (!gpiote_test_pin_high()) {
      fail("pin not toggled through PPI channel 0");
    } else {
      PPI_CHENCLR = 1u << 0;
      timer2_one_shot();
      if (!wait_nonzero(&TIMER_EVENTS_COMPARE(TIMER2_BASE, 0)))
        fail_timeout("second TIMER2 COMPARE[0]");
      else if (!gpiote_test_pin_high())
        fail("pin toggled with PPI channel 0 disabled");
      else
        ok = 1;
    }
  }
  PPI_CHENCLR = 1u << 0;
  TIMER_TASKS_STOP(TIMER2_BASE) = 1;
  TIMER_SHORTS(TIMER2_BASE) = 0;
  gpiote_release_test_pin();
  return ok;
}

/*
 * RTC1 (needs the LFCLK started by the CLOCK check): at prescaler 0 COUNTER counts up at 32768 Hz
 * and COMPARE[0] comes when it reaches CC[0]. Left running: the TIMER0 check times against it.
 */
static int check_rtc1(void) {
  const uint32_t rtc = RTC1_BASE;
  RTC_TASKS_STOP(rtc) = 1;
  RTC_PRESCALER(rtc) = 0; /* only writable while stopped */
  RTC_TASKS_CLEAR(rtc) = 1;
  /* EVTEN routes COMPARE[0] to PPI; set it so the event is seen however INTEN/EVTEN gating is read. */
  RTC_EVTENSET(rtc) = RTC_EVT_COMPARE0;
  RTC_TASKS_START(rtc) = 1;

  /* Two increments in a row, so a counter that only jumps once (e.g. the CLEAR) does not pass. */
  uint32_t before = RTC_COUNTER(rtc), now = before;
  for (int step = 0; step < 2; step++) {
    uint32_t i;
    for (i = 0; i < TIMEOUT_LOOPS; i++) {
      now = RTC_COUNTER(rtc);
      if (now != before) break;
    }
    if (i == TIMEOUT_LOOPS) return fail_timeout("COUNTER change");
    if (step == 1 && ((now - before) & RTC_COUNTER_MASK) > 2u)
      return fail_dec("COUNTER step", (int32_t)((now - before) & RTC_COUNTER_MASK));
    before = now;
  }

  /* 50 ticks ahead: the manual warns that CC = COUNTER or COUNTER + 1 may not trigger. */
  const uint32_t cc = (RTC_COUNTER(rtc) + 50u) & RTC_COUNTER_MASK;
  RTC_EVENTS_COMPARE(rtc, 0) = 0;
  RTC_CC(rtc, 0) = cc;
  int got = wait_nonzero(&RTC_EVENTS_COMPARE(rtc, 0));
  uint32_t past = (RTC_COUNTER(rtc) - cc) & RTC_COUNTER_MASK;
  RTC_EVTENCLR(rtc) = RTC_EVT_COMPARE0;
  RTC_EVENTS_COMPARE(rtc, 0) = 0;
  if (!got) return fail_timeout("COMPARE[0]");
  /* A wrapped difference means the event came before COUNTER reached CC[0]. */
  if (past > 2u) return fail_hex("COUNTER-CC[0] at COMPARE[0]", past);
  return 1;
}

static uint32_t rtc1_ticks_since(uint32_t start) {
  return (RTC_COUNTER(RTC1_BASE) - start) & RTC_COUNTER_MASK;
}

/*
 * TIMER0: 32-bit at 1 MHz, CC[0] = 1000 gives COMPARE[0] after 1 ms (timed against RTC1);
 * CAPTURE copies the running count; the COMPARE0_CLEAR short restarts the count from 0, so
 * COMPARE[0] comes again 1 ms later (a 32-bit count would otherwise need 71 minutes).
 */
static int check_timer0(void) {
  const uint32_t t = TIMER0_BASE;
  int ok = 0;
  RTC_TASKS_START(RTC1_BASE) = 1; /* no-op when the RTC1 check left it running */
  TIMER_TASKS_STOP(t) = 1;
  TIMER_TASKS_CLEAR(t) = 1;
  TIMER_MODE(t) = TIMER_MODE_TIMER;
  TIMER_BITMODE(t) = TIMER_BITMODE_32;
  TIMER_PRESCALER(t) = 4;
  TIMER_CC(t, 0) = 1000;
  TIMER_SHORTS(t) = TIMER_SHORTS_COMPARE0_CLEAR;
  TIMER_EVENTS_COMPARE(t, 0) = 0;

  uint32_t start = RTC_COUNTER(RTC1_BASE);
  TIMER_TASKS_START(t) = 1;
  if (!wait_nonzero(&TIMER_EVENTS_COMPARE(t, 0))) {
    fail_timeout("COMPARE[0]");
  } else {
    uint32_t ticks = rtc1_ticks_since(start);
    if (ticks < RTC_TICKS_1MS_MIN || ticks > RTC_TICKS_1MS_MAX) {
      fail_dec("RTC1 ticks to COMPARE[0] (expect 33)", (int32_t)ticks);
    } else {
      TIMER_TASKS_CAPTURE(t, 1) = 1;
      uint32_t first = TIMER_CC(t, 1);
      delay_loops(200);
      TIMER_TASKS_CAPTURE(t, 2) = 1;
      uint32_t second = TIMER_CC(t, 2);
      if (first >= 1000u) {
        fail_dec("CAPTURE[1] after COMPARE0_CLEAR", (int32_t)first);
      } else if (second == first) {
        fail_dec("CAPTURE[2] equals CAPTURE[1]", (int32_t)second);
      } else {
        TIMER_EVENTS_COMPARE(t, 0) = 0;
        start = RTC_COUNTER(RTC1_BASE);
        if (!wait_nonzero(&TIMER_EVENTS_COMPARE(t, 0))) {
          fail_timeout("second COMPARE[0] (COMPARE0_CLEAR)");
        } else {
          ticks = rtc1_ticks_since(start);
          if (ticks > RTC_TICKS_1MS_MAX)
            fail_dec("RTC1 ticks to second COMPARE[0]", (int32_t)ticks);
          else
            ok = 1;
        }
      }
    }
  }
  TIMER_TASKS_STOP(t) = 1;
  TIMER_SHORTS(t) = 0;
  return ok;
}

/* RNG: VALRDY for each value; eight values that are not all the same. */
static int check_rng(void) {
  uint32_t first = 0;
  int all_same = 1;
  RNG_EVENTS_VALRDY = 0;
  RNG_TASKS_START = 1;
  for (int i = 0; i < 8; i++) {
    if (!wait_nonzero(&RNG_EVENTS_VALRDY)) {
      RNG_TASKS_STOP = 1;
      return fail_timeout("VALRDY");
    }
    uint32_t v = RNG_VALUE & 0xFFu;
    RNG_EVENTS_VALRDY = 0;
    if (i == 0)
      first = v;
    else if (v != first)
      all_same = 0;
  }
  RNG_TASKS_STOP = 1;
  if (all_same) return fail_hex("8 equal values", first);
  return 1;
}

/* TEMP: one measurement; the die temperature lies in the chip's operating range. */
static int check_temp(void) {
  TEMP_EVENTS_DATARDY = 0;
  TEMP_TASKS_START = 1;
  if (!wait_nonzero(&TEMP_EVENTS_DATARDY)) return fail_timeout("DATARDY");
  uint32_t raw = TEMP_TEMP;
  TEMP_EVENTS_DATARDY = 0;
  TEMP_TASKS_STOP = 1; /* releases the HFCLK request */
  /* Early nRF51 silicon fills only 10 bits (PAN 28): extend the sign from bit 9. */
  if ((raw & 0x200u) != 0) raw |= 0xFFFFFC00u;
  int32_t quarter_degrees = (int32_t)raw;
  if (quarter_degrees < -40 * 4 || quarter_degrees > 85 * 4)
    return fail_dec("TEMP in 0.25 C", quarter_degrees);
  return 1;
}

/* ADC: a 10-bit conversion of AIN4 (P0.03, micro:bit pin 0) ends with END and a 10-bit RESULT. */
static int check_adc(void) {
  ADC_ENABLE = 1;
  ADC_CONFIG = ADC_CONFIG_RES_10BIT | ADC_CONFIG_INPSEL_AIN_ONE_THIRD | ADC_CONFIG_REFSEL_VBG |
               ADC_CONFIG_PSEL_AIN(ADC_AIN_P0_03);
  ADC_EVENTS_END = 0;
  ADC_TASKS_START = 1;
  int got = wait_nonzero(&ADC_EVENTS_END);
  uint32_t result = ADC_RESULT, busy = ADC_BUSY;
  ADC_EVENTS_END = 0;
  ADC_ENABLE = 0;
  if (!got) return fail_timeout("END");
  if (busy != 0) return fail_hex("BUSY after END", busy);
  if (result > 1023u) return fail_hex("RESULT", result);
  return 1;
}

/* ECB: AES-128 of the FIPS-197 appendix C.1 example (key 00..0f, plaintext 00 11 .. ff). */
static struct {
  uint8_t key[16];
  uint8_t cleartext[16];
  uint8_t ciphertext[16];
} ecb_data __attribute__((aligned(4)));

static const uint8_t fips197_ciphertext[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                               0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};

static int check_ecb(void) {
  for (uint32_t i = 0; i < 16; i++) {
    ecb_data.key[i] = (uint8_t)i;
    ecb_data.cleartext[i] = (uint8_t)(i * 0x11u);
    ecb_data.ciphertext[i] = 0;
  }
  ECB_ECBDATAPTR = (uint32_t)(uintptr_t)&ecb_data;
  ECB_EVENTS_ENDECB = 0;
  ECB_EVENTS_ERRORECB = 0;
  ECB_TASKS_STARTECB = 1;
  uint32_t i;
  for (i = 0; i < TIMEOUT_LOOPS; i++) {
    if (ECB_EVENTS_ENDECB != 0 || ECB_EVENTS_ERRORECB != 0) break;
  }
  if (i == TIMEOUT_LOOPS) return fail_timeout("ENDECB");
  if (ECB_EVENTS_ERRORECB != 0) return fail("ERRORECB");
  for (i = 0; i < 16; i++) {
    if (ecb_data.ciphertext[i] != fips197_ciphertext[i]) {
      /* The first four ciphertext bytes, in order, as one number. */
      uint32_t head = ((uint32_t)ecb_data.ciphertext[0] << 24) |
                      ((uint32_t)ecb_data.ciphertext[1] << 16) |
                      ((uint32_t)ecb_data.ciphertext[2] << 8) | ecb_data.ciphertext[3];
      return fail_hex("ciphertext[0..3] (expect 0x69c4e0d8)", head);
    }
  }
  return 1;
}

/* NVMC: page erase sets every bit; a write can only clear bits (NOR flash). */
static int nvmc_erase_page(uint32_t page) {
  NVMC_CONFIG = NVMC_CONFIG_EEN;
  int ok = wait_nonzero(&NVMC_READY);
  if (ok) {
    NVMC_ERASEPAGE = page;
    ok = wait_nonzero(&NVMC_READY);
  }
  NVMC_CONFIG = NVMC_CONFIG_REN;
  return ok;
}

static int nvmc_write_word(volatile uint32_t *word, uint32_t value) {
  NVMC_CONFIG = NVMC_CONFIG_WEN;
  int ok = wait_nonzero(&NVMC_READY);
  if (ok) {
    *word = value;
    ok = wait_nonzero(&NVMC_READY);
  }
  NVMC_CONFIG = NVMC_CONFIG_REN;
  return ok;
}

static int check_nvmc(void) {
  volatile uint32_t *page = (volatile uint32_t *)(uintptr_t)NVMC_TEST_PAGE;
  if (!nvmc_erase_page(NVMC_TEST_PAGE)) return fail_timeout("READY after ERASEPAGE");
  for (uint32_t i = 0; i < FLASH_PAGE_WORDS; i++) {
    if (page[i] != 0xFFFFFFFFu) return fail_hex("word after ERASEPAGE", page[i]);
  }
  if (!nvmc_write_word(&page[0], 0x0000FFFFu)) return fail_timeout("READY after write");
  if (page[0] != 0x0000FFFFu) return fail_hex("word after write", page[0]);
  /* The second write ANDs into the first: no bit may go back from 0 to 1 without an erase. */
  if (!nvmc_write_word(&page[0], 0xFFFF0000u)) return fail_timeout("READY after write");
  if (page[0] != 0u) return fail_hex("0x0000ffff then 0xffff0000", page[0]);
  if (!nvmc_write_word(&page[1], 0x12345678u)) return fail_timeout("READY after write");
  if (page[1] != 0x12345678u) return fail_hex("second word after write", page[1]);
  if (!nvmc_erase_page(NVMC_TEST_PAGE)) return fail_timeout("READY after ERASEPAGE");
  if (page[0] != 0xFFFFFFFFu || page[1] != 0xFFFFFFFFu)
    return fail_hex("written word after ERASEPAGE", page[0] & page[1]);
  return 1;
}

/* TWI0 as an I2C master on the micro:bit's sensor bus. */
enum twi_result { TWI_OK, TWI_ERROR, TWI_TIMEOUT };

/* Waits for an event of a transfer, or for ERROR; clears the event it got. */
static enum twi_result twi_wait(volatile uint32_t *event) {
  for (uint32_t i = 0; i < TIMEOUT_LOOPS; i++) {
    if (*event != 0) {
      *event = 0;
      return TWI_OK;
    }
    if (TWI_EVENTS_ERROR != 0) return TWI_ERROR;
  }
  return TWI_TIMEOUT;
}

static void twi_stop(void) {
  TWI_SHORTS = 0;
  TWI_EVENTS_STOPPED = 0;
  TWI_TASKS_STOP = 1;
  (void)wait_nonzero(&TWI_EVENTS_STOPPED);
}

/*
 * Reads one register the way the sensors expect: START, address+W, register number, repeated
 * START, address+R, one byte (BB_STOP ends it with NACK and STOP). ERRORSRC is left for the caller.
 */
static enum twi_result twi_read_register(uint32_t address, uint8_t reg, uint8_t *value) {
  TWI_ERRORSRC = 7u; /* write 1 to clear each error bit */
  TWI_EVENTS_ERROR = 0;
  TWI_EVENTS_TXDSENT = 0;
  TWI_EVENTS_RXDREADY = 0;
  TWI_EVENTS_BB = 0;
  TWI_SHORTS = 0;
  TWI_ADDRESS = address;
  TWI_TXD = reg;
  TWI_TASKS_STARTTX = 1;
  enum twi_result r = twi_wait(&TWI_EVENTS_TXDSENT);
  if (r != TWI_OK) {
    twi_stop();
    return r;
  }
  TWI_SHORTS = TWI_SHORTS_BB_STOP;
  TWI_EVENTS_STOPPED = 0;
  TWI_TASKS_STARTRX = 1;
  r = twi_wait(&TWI_EVENTS_RXDREADY);
  if (r != TWI_OK) {
    twi_stop();
    return r;
  }
  *value = (uint8_t)TWI_RXD;
  r = twi_wait(&TWI_EVENTS_STOPPED);
  TWI_SHORTS = 0;
  return r;
}

static int twi_expect_register(uint32_t address, uint8_t reg, uint8_t want, const char *device) {
  uint8_t got = 0;
  enum twi_result r = twi_read_register(address, reg, &got);
  if (r == TWI_TIMEOUT) return fail_timeout(device);
  if (r == TWI_ERROR) {
    put_str("FAIL ERROR from ");
    put_str(device);
    put_str(" ERRORSRC=");
    put_hex(TWI_ERRORSRC);
    put_char('\n');
    return 0;
  }
  if (got != want) {
    put_str("FAIL ");
    put_str(device);
    put_str(" WHO_AM_I=");
    put_hex(got);
    put_char('\n');
    return 0;
  }
  return 1;
}

static int check_twi0(void) {
  int ok = 0;
  /* The manual wants the TWI pins as open-drain inputs with the input buffer connected. */
  GPIO_PIN_CNF(I2C_SCL_PIN) = PIN_CNF_DRIVE_S0D1;
  GPIO_PIN_CNF(I2C_SDA_PIN) = PIN_CNF_DRIVE_S0D1;
  TWI_PSELSCL = I2C_SCL_PIN;
  TWI_PSELSDA = I2C_SDA_PIN;
  TWI_FREQUENCY = TWI_FREQUENCY_K100;
  TWI_ENABLE = TWI_ENABLE_ENABLED;

  uint8_t unused = 0;
  if (twi_expect_register(MMA8653_ADDR, 0x0D, 0x5A, "MMA8653") &&
      twi_expect_register(MAG3110_ADDR, 0x07, 0xC4, "MAG3110")) {
    enum twi_result r = twi_read_register(ABSENT_I2C_ADDR, 0x00, &unused);
    uint32_t src = TWI_ERRORSRC;
    if (r != TWI_ERROR) {
      fail(r == TWI_TIMEOUT ? "timeout ERROR for absent 0x42" : "no ERROR for absent 0x42");
    } else if ((src & TWI_ERRORSRC_ANACK) == 0) {
      fail_hex("ERRORSRC for absent 0x42", src);
    } else {
      TWI_ERRORSRC = TWI_ERRORSRC_ANACK;
      if ((TWI_ERRORSRC & TWI_ERRORSRC_ANACK) != 0)
        fail_hex("ERRORSRC after writing 1 to ANACK", TWI_ERRORSRC);
      else
        ok = 1;
    }
  }
  TWI_EVENTS_ERROR = 0;
  TWI_ENABLE = 0;
  return ok;
}

/* NVIC: a software-pended SWI0 and a TIMER1 COMPARE[0] interrupt each run their handler once. */
static volatile uint32_t swi0_runs, timer1_runs;

void SWI0_IRQHandler(void) { swi0_runs++; }

void TIMER1_IRQHandler(void) {
  TIMER_EVENTS_COMPARE(TIMER1_BASE, 0) = 0;
  /* Read back so the clear has reached the peripheral before the handler returns; otherwise
     the still-high interrupt line would pend the IRQ again. */
  (void)TIMER_EVENTS_COMPARE(TIMER1_BASE, 0);
  timer1_runs++;
}

static int check_nvic(void) {
  const uint32_t swi0 = 1u << IRQ_SWI0, timer1 = 1u << IRQ_TIMER1;
  __asm__ volatile("cpsie i" ::: "memory");

  swi0_runs = 0;
  NVIC_ICPR = swi0;
  NVIC_ISER = swi0;
  if ((NVIC_ISER & swi0) == 0) return fail_hex("ISER after enabling SWI0", NVIC_ISER);
  NVIC_ISPR = swi0;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  int got = wait_nonzero(&swi0_runs);
  uint32_t pending = NVIC_ISPR & swi0;
  NVIC_ICER = swi0;
  if (!got) return fail_timeout("SWI0 handler after ISPR");
  if (pending != 0) return fail("SWI0 still pending after its handler");

  const uint32_t t = TIMER1_BASE;
  timer1_runs = 0;
  TIMER_TASKS_STOP(t) = 1;
  TIMER_TASKS_CLEAR(t) = 1;
  TIMER_MODE(t) = TIMER_MODE_TIMER;
  TIMER_BITMODE(t) = TIMER_BITMODE_16;
  TIMER_PRESCALER(t) = 4;
  TIMER_CC(t, 0) = 200;
  TIMER_SHORTS(t) = TIMER_SHORTS_COMPARE0_STOP; /* one compare, so one interrupt */
  TIMER_EVENTS_COMPARE(t, 0) = 0;
  TIMER_INTENSET(t) = TIMER_INT_COMPARE0;
  NVIC_ICPR = timer1;
  NVIC_ISER = timer1;
  TIMER_TASKS_START(t) = 1;
  got = wait_nonzero(&timer1_runs);
  delay_loops(1000); /* time for a wrong second interrupt to show */
  NVIC_ICER = timer1;
  TIMER_INTENCLR(t) = TIMER_INT_COMPARE0;
  TIMER_TASKS_STOP(t) = 1;
  TIMER_SHORTS(t) = 0;
  if (!got) return fail_timeout("TIMER1 handler");
  if (timer1_runs != 1) return fail_dec("TIMER1 handler runs", (int32_t)timer1_runs);
  return 1;
}

/*
 * RADIO: DISABLE while disabled still gives DISABLED (MicroPython waits for it); TXEN ramps up to
 * READY in TXIDLE; START sends one packet (ADDRESS, PAYLOAD, END); DISABLE returns to DISABLED.
 * Needs the crystal HFCLK from the CLOCK check.
 */
static uint8_t radio_packet[8] __attribute__((aligned(4))) = {4, 't', 'e', 's', 't'};

static int radio_disable(void) {
  RADIO_EVENTS_DISABLED = 0;
  RADIO_TASKS_DISABLE = 1;
  return wait_nonzero(&RADIO_EVENTS_DISABLED);
}

static int check_radio(void) {
  RADIO_POWER = 1;
  RADIO_SHORTS = 0;
  if (RADIO_STATE != RADIO_STATE_DISABLED) return fail_dec("STATE at start", (int32_t)RADIO_STATE);
  if (!radio_disable()) return fail_timeout("DISABLED after DISABLE while disabled");

  RADIO_MODE = RADIO_MODE_NRF_1MBIT;
  RADIO_FREQUENCY = 7; /* 2407 MHz, MicroPython's default channel */
  RADIO_TXPOWER = 0;
  RADIO_PCNF0 = 8;                /* 8-bit LENGTH field, no S0/S1 */
  RADIO_PCNF1 = 32u | (4u << 16); /* MAXLEN 32, 4-byte base address */
  RADIO_BASE0 = 0x75626974u;
  RADIO_PREFIX0 = 0x00u;
  RADIO_TXADDRESS = 0;
  RADIO_CRCCNF = 2; /* 16-bit CRC */
  RADIO_CRCPOLY = 0x11021u;
  RADIO_CRCINIT = 0xFFFFu;
  RADIO_PACKETPTR = (uint32_t)(uintptr_t)radio_packet;

  RADIO_EVENTS_READY = 0;
  RADIO_TASKS_TXEN = 1;
  if (!wait_nonzero(&RADIO_EVENTS_READY)) {
    (void)radio_disable();
    return fail_timeout("READY after TXEN");
  }
  if (RADIO_STATE != RADIO_STATE_TXIDLE) {
    uint32_t state = RADIO_STATE;
    (void)radio_disable();
    return fail_dec("STATE after READY (expect 10)", (int32_t)state);
  }
  RADIO_EVENTS_ADDRESS = 0;
  RADIO_EVENTS_PAYLOAD = 0;
  RADIO_EVENTS_END = 0;
  RADIO_TASKS_START = 1;
  if (!wait_nonzero(&RADIO_EVENTS_END)) {
    (void)radio_disable();
    return fail_timeout("END after START");
  }
  if (RADIO_EVENTS_ADDRESS == 0 || RADIO_EVENTS_PAYLOAD == 0) {
    (void)radio_disable();
    return fail("END without ADDRESS and PAYLOAD");
  }
  if (RADIO_STATE != RADIO_STATE_TXIDLE) {
    uint32_t state = RADIO_STATE;
    (void)radio_disable();
    return fail_dec("STATE after END (expect 10)", (int32_t)state);
  }
  if (!radio_disable()) return fail_timeout("DISABLED after DISABLE");
  if (RADIO_STATE != RADIO_STATE_DISABLED)
    return fail_dec("STATE after DISABLED", (int32_t)RADIO_STATE);
  return 1;
}

/* WDT: never started here (it would reset the chip); CRV is writable while it is stopped. */
static int check_wdt(void) {
  if ((WDT_RUNSTATUS & 1u) != 0) return fail("running before START");
  if (WDT_CRV != 0xFFFFFFFFu) return fail_hex("CRV reset value", WDT_CRV);
  WDT_CRV = 32768u; /* 1 s */
  uint32_t crv = WDT_CRV;
  WDT_CRV = 0xFFFFFFFFu;
  if (crv != 32768u) return fail_hex("CRV after writing 0x8000", crv);
  return 1;
}

/* UART: every byte so far got its TXDRDY (checked by put_char). */
static int check_uart(void) { return uart_timed_out ? fail_timeout("TXDRDY") : 1; }

/* ------------------------------------------------------------------------------------------ */
/* Runner, with recovery from a HardFault inside a check */

static void *fault_recovery[5]; /* __builtin_setjmp buffer */
static uint32_t passed, total;

/*
 * Entered (by the exception return the HardFault handler arranges) in thread mode on the
 * faulting check's stack: jump back into run_check, which reports and goes on.
 */
static void __attribute__((noreturn, used)) resume_after_fault(void) {
  __builtin_longjmp(fault_recovery, 1);
}

/* Called from HardFault_Handler with the exception frame: r0-r3, r12, lr, pc, xPSR. */
void __attribute__((used)) hardfault_report(uint32_t *frame) {
  put_str("FAIL hardfault pc=");
  put_hex(frame[6]);
  put_char('\n');
  frame[6] = (uint32_t)(uintptr_t)resume_after_fault & ~1u; /* stacked PC: halfword address */
  frame[7] = 1u << 24;                                        /* xPSR: Thumb state, thread mode */
}

/* Passes the main stack's frame to hardfault_report, whose return is the exception return. */
void __attribute__((naked)) HardFault_Handler(void) {
  __asm__ volatile(
      "mrs r0, msp\n\t"
      "ldr r1, =hardfault_report\n\t"
      "bx r1\n\t"
      ".ltorg\n\t");
}

static void run_check(const char *name, int (*check)(void)) {
  total++;
  put_str("TEST ");
  put_str(name);
  put_char(' ');
  if (__builtin_setjmp(fault_recovery) == 0) {
    if (check()) {
      put_str("PASS\n");
      passed++;
    }
  }
}

int main(void) {
  uart_init();
  put_str("BEGIN periph-test\n");
  /* Order matters: CLOCK starts the LFCLK (RTC1) and the crystal (RADIO); RTC1 times TIMER0. */
  run_check("CLOCK", check_clock);
  run_check("FICR", check_ficr);
  run_check("GPIO", check_gpio);
  run_check("GPIO_PULL", check_gpio_pull);
  run_check("GPIOTE", check_gpiote);
  run_check("PPI", check_ppi);
  run_check("RTC1", check_rtc1);
  run_check("TIMER0", check_timer0);
  run_check("RNG", check_rng);
  run_check("TEMP", check_temp);
  run_check("ADC", check_adc);
  run_check("ECB", check_ecb);
  run_check("NVMC", check_nvmc);
  run_check("TWI0", check_twi0);
  run_check("NVIC", check_nvic);
  run_check("RADIO", check_radio);
  run_check("WDT", check_wdt);
  run_check("UART", check_uart);
  put_str("DONE ");
  put_dec((int32_t)passed);
  put_char('/');
  put_dec((int32_t)total);
  put_char('\n');
  for (;;) __asm__ volatile("wfi");
}
