// Starts the test store and prints one line a harness waits for:
//   VENDURE_READY http://127.0.0.1:<port>
// SIGTERM or SIGINT closes it.
'use strict';

const { bootstrap } = require('@vendure/core');
const { config } = require('./config');
const { setUpStore } = require('./setup');

async function main() {
    const app = await bootstrap(config);
    const base = `http://${config.apiOptions.hostname}:${config.apiOptions.port}`;
    await setUpStore(base);
    console.log(`VENDURE_READY ${base}`);
    const stop = () => app.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
}

main().catch(err => {
    console.error(err);
    process.exit(1);
});
