// Makes a fresh Vendure able to hold products and take orders. A new
// database has a default channel, the superadmin and one stock location, but
// no country, zone, tax, shipping or payment method; without a default tax
// zone Vendure even refuses to create variants ("The active tax zone could
// not be determined"). Runs through the store's own Admin API.
'use strict';

const PAYMENT_METHOD = 'test-payment';
const en = 'en';

async function adminClient(base) {
    let token = null;
    return async function call(query, variables = {}) {
        const headers = { 'content-type': 'application/json' };
        if (token) headers.authorization = `Bearer ${token}`;
        const response = await fetch(`${base}/admin-api`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ query, variables }),
        });
        token = response.headers.get('vendure-auth-token') || token;
        const body = await response.json();
        if (body.errors) throw new Error(`${query.split('(')[0]}: ${JSON.stringify(body.errors)}`);
        return body.data;
    };
}

async function setUpStore(base) {
    const call = await adminClient(base);
    const { login } = await call(
        `mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) {
            __typename ... on ErrorResult { message } } }`,
        { u: 'superadmin', p: 'superadmin' },
    );
    if (login.__typename !== 'CurrentUser') throw new Error(`sign-in refused: ${login.message}`);

    const { activeChannel: channel } = await call(
        'query { activeChannel { id defaultTaxZone { id } } }',
    );
    if (channel.defaultTaxZone) return;

    const { createCountry: country } = await call(
        'mutation C($input: CreateCountryInput!) { createCountry(input: $input) { id } }',
        { input: { code: 'US', enabled: true, translations: [{ languageCode: en, name: 'United States' }] } },
    );
    const { createZone: zone } = await call(
        'mutation Z($input: CreateZoneInput!) { createZone(input: $input) { id } }',
        { input: { name: 'Home', memberIds: [country.id] } },
    );
    const { updateChannel } = await call(
        `mutation U($input: UpdateChannelInput!) { updateChannel(input: $input) {
            __typename ... on ErrorResult { message } } }`,
        { input: { id: channel.id, defaultTaxZoneId: zone.id, defaultShippingZoneId: zone.id } },
    );
    if (updateChannel.__typename !== 'Channel') throw new Error(`channel not updated: ${updateChannel.message}`);
    const { createTaxCategory: category } = await call(
        'mutation T($input: CreateTaxCategoryInput!) { createTaxCategory(input: $input) { id } }',
        { input: { name: 'Standard', isDefault: true } },
    );
    await call('mutation R($input: CreateTaxRateInput!) { createTaxRate(input: $input) { id } }', {
        input: { name: 'Standard', enabled: true, value: 10, categoryId: category.id, zoneId: zone.id },
    });
    await call('mutation S($input: CreateShippingMethodInput!) { createShippingMethod(input: $input) { id } }', {
        input: {
            code: 'standard',
            fulfillmentHandler: 'manual-fulfillment',
            checker: { code: 'default-shipping-eligibility-checker', arguments: [{ name: 'orderMinimum', value: '0' }] },
            calculator: {
                code: 'default-shipping-calculator',
                arguments: [
                    { name: 'rate', value: '500' },
                    { name: 'includesTax', value: 'exclude' },
                    { name: 'taxRate', value: '0' },
                ],
            },
            translations: [{ languageCode: en, name: 'Standard', description: '' }],
        },
    });
    // Authorised, not settled: a placed order allocates stock, as a shop's
    // orders do until they are fulfilled.
    await call('mutation P($input: CreatePaymentMethodInput!) { createPaymentMethod(input: $input) { id } }', {
        input: {
            code: PAYMENT_METHOD,
            enabled: true,
            handler: { code: 'dummy-payment-handler', arguments: [{ name: 'automaticSettle', value: 'false' }] },
            translations: [{ languageCode: en, name: 'Test payment', description: '' }],
        },
    });
}

module.exports = { setUpStore, PAYMENT_METHOD };
