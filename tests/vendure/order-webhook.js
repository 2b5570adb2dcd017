// Vendure has no outgoing webhooks of its own. This plugin POSTs every order
// state change to VENDURE_ORDER_WEBHOOK_URL as JSON:
//   {"event": "order.state", "orderId": "7", "code": "…", "fromState": "…",
//    "toState": "PaymentAuthorized", "placed": true,
//    "lines": [{"orderLineId": "9", "sku": "TEE-S", "quantity": 2}]}
// One attempt with a 5 s timeout, like a store that does not retry: the
// Admin API's order list stays the source of truth.
'use strict';

const {
    EventBus,
    Logger,
    OrderService,
    OrderStateTransitionEvent,
    PluginCommonModule,
    VendurePlugin,
} = require('@vendure/core');

// States a placed order reaches from checkout.
const PLACING = new Set(['PaymentAuthorized', 'PaymentSettled']);

class OrderWebhook {
    constructor(eventBus, orderService) {
        this.eventBus = eventBus;
        this.orderService = orderService;
    }

    onApplicationBootstrap() {
        const url = process.env.VENDURE_ORDER_WEBHOOK_URL;
        if (!url) return;
        this.eventBus.ofType(OrderStateTransitionEvent).subscribe(event => {
            this.post(url, event).catch(err =>
                Logger.warn(`order webhook not delivered: ${err && err.message}`, 'OrderWebhook'),
            );
        });
    }

    async post(url, event) {
        // A cart being filled is not an order yet.
        if (event.toState === 'Created' || event.toState === 'AddingItems') return;
        const order = await this.orderService.findOne(event.ctx, event.order.id, [
            'lines',
            'lines.productVariant',
        ]);
        const lines = (order ? order.lines : []).map(line => ({
            orderLineId: String(line.id),
            sku: line.productVariant ? line.productVariant.sku : null,
            quantity: line.quantity,
        }));
        const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
                event: 'order.state',
                orderId: String(event.order.id),
                code: event.order.code,
                fromState: event.fromState,
                toState: event.toState,
                placed: event.fromState === 'ArrangingPayment' && PLACING.has(event.toState),
                lines,
            }),
            signal: AbortSignal.timeout(5000),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
    }
}

// Plain JavaScript has no decorators: declare the constructor's injected
// types the way TypeScript's emitted metadata would.
Reflect.defineMetadata('design:paramtypes', [EventBus, OrderService], OrderWebhook);

module.exports = {
    OrderWebhook: VendurePlugin({ imports: [PluginCommonModule], compatibility: '^3.0.0' })(OrderWebhook) || OrderWebhook,
};
