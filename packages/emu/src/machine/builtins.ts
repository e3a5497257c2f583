/**
 * Imports every built-in machine and device type once, so that they register themselves.
 * The CLI, the library entry point and the tests import this module.
 */
import '../hw/core/generic-loader.js';
import '../hw/misc/tsemu-testdev.js';
import './none.js';
import '../hw/misc/nrf51-clock.js';
import '../hw/nvram/nrf51-ficr.js';
import '../hw/nvram/nrf51-nvmc.js';
import '../hw/radio/nrf51-radio.js';
import '../hw/display/microbit-led-matrix.js';
import '../hw/gpio/nrf51-gpio.js';
import '../hw/gpio/nrf51-gpiote.js';
import '../hw/misc/nrf51-ppi.js';
import '../hw/char/nrf51-uart.js';
import '../hw/timer/nrf51-timer.js';
import '../hw/timer/nrf51-rtc.js';
import '../hw/misc/nrf51-wdt.js';
import '../hw/misc/nrf51-rng.js';
import '../hw/sensor/nrf51-temp.js';
import '../hw/adc/nrf51-adc.js';
import '../hw/crypto/nrf51-ecb.js';
import '../hw/crypto/nrf51-ccm-aar.js';
import '../hw/misc/nrf51-qdec.js';
import '../hw/misc/nrf51-lpcomp.js';
import '../hw/misc/nrf51-swi.js';
import '../hw/misc/nrf51-serial-box.js';
import '../hw/i2c/nrf51-twi.js';
import '../hw/ssi/nrf51-spi.js';
import '../hw/sensor/mma8653fc.js';
import '../hw/sensor/mag3110.js';
import '../hw/input/microbit-button.js';
import './microbit.js';
import './dual-m0.js';
