// Vendure configuration for the test store: loopback only, an in-memory
// SQLite (sql.js, pure WASM: nothing to install or start), bearer and API-key
// authentication, the dummy payment handler, assets kept in memory, a barcode
// and a weight on each variant (custom fields), and no plugin that would need
// a native build or a download (asset server, email, admin UI).
//
// Environment: VENDURE_HOST, VENDURE_PORT, VENDURE_LOG_LEVEL (0 = errors only),
// VENDURE_ORDER_WEBHOOK_URL (see order-webhook.js), VENDURE_PLAIN_VARIANTS=1
// (no barcode or weight custom fields: a store as Vendure ships).
'use strict';

// Vendure 3 reports anonymous usage to its vendor unless told not to.
process.env.VENDURE_DISABLE_TELEMETRY = 'true';

const {
    DefaultLogger,
    MultiChannelStockLocationStrategy,
    dummyPaymentHandler,
} = require('@vendure/core');
const { MemoryAssetStorage, SourceAsPreview } = require('./assets');
const { OrderWebhook } = require('./order-webhook');

// Vendure 3.7's stock location strategy gives every location
// min(whole line quantity, what it has) when a line is split across
// locations, so it allocates more than was ordered (vendurehq/vendure#4030).
// Trim the split to the ordered quantity, as a store would after the fix.
class ExactSplitAllocation extends MultiChannelStockLocationStrategy {
    async forAllocation(ctx, stockLocations, orderLine, quantity) {
        const proposed = await super.forAllocation(ctx, stockLocations, orderLine, quantity);
        const exact = [];
        let left = quantity;
        for (const { location, quantity: offered } of proposed) {
            const take = Math.min(offered, left);
            if (take <= 0) break;
            exact.push({ location, quantity: take });
            left -= take;
        }
        return exact;
    }
}

const config = {
    apiOptions: {
        hostname: process.env.VENDURE_HOST || '127.0.0.1',
        port: Number(process.env.VENDURE_PORT || 3000),
        adminApiPath: 'admin-api',
        shopApiPath: 'shop-api',
        adminApiPlayground: false,
        shopApiPlayground: false,
    },
    authOptions: {
        // Bearer tokens come back in the `vendure-auth-token` response header;
        // Tillbridge uses a long-lived key sent as `vendure-api-key`.
        tokenMethod: ['bearer', 'api-key'],
        superadminCredentials: { identifier: 'superadmin', password: 'superadmin' },
        requireVerification: false,
    },
    dbConnectionOptions: {
        type: 'sqljs',
        // The schema is created at start-up in a fresh in-memory database.
        synchronize: true,
        logging: false,
    },
    catalogOptions: { stockLocationStrategy: new ExactSplitAllocation() },
    // Uploads (createAssets) are kept in memory; without a storage strategy
    // Vendure refuses every upload.
    assetOptions: {
        assetStorageStrategy: new MemoryAssetStorage(),
        assetPreviewStrategy: new SourceAsPreview(),
    },
    // Seed 004 syncs a barcode (UPC) and a weight per variant; Vendure has
    // neither field, so the store declares them (the schema follows at
    // start-up, `synchronize` being on). Grams, as Tillbridge keeps them.
    customFields:
        process.env.VENDURE_PLAIN_VARIANTS === '1'
            ? {}
            : {
                  ProductVariant: [
                      { name: 'barcode', type: 'string', label: [{ languageCode: 'en', value: 'Barcode (UPC/EAN)' }] },
                      { name: 'weight', type: 'int', min: 0, label: [{ languageCode: 'en', value: 'Weight (g)' }] },
                  ],
              },
    paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
    logger: new DefaultLogger({ level: Number(process.env.VENDURE_LOG_LEVEL || 0) }),
    plugins: [OrderWebhook],
};

module.exports = { config };
