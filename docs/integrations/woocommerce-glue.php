<?php
/**
 * Plugin Name: Insights visitor id on WooCommerce orders
 * Description: Stores the Insights tracker's visitor id on each new order (order meta `insights_visitor_id`), which
 *              WooCommerce's order webhooks carry in `meta_data`, so Insights can attribute the order to the visitor
 *              and to the chats they had.
 *
 * Install: copy to wp-content/mu-plugins/insights-glue.php (a must-use plugin needs no activation).
 *
 * The id is what `insights.visitorId()` returns in the browser: the tracker keeps it in localStorage and in the
 * first-party cookie `insights_vid`, which the checkout request carries. Reading it on the server works for the
 * classic checkout and the block checkout (Store API) alike, with no field in the form. No cookie (cookieless mode,
 * Do-Not-Track, a new browser) means no meta: the order still counts, it is just not linked to a visit.
 */

defined('ABSPATH') || exit;

function insights_glue_visitor_id(WC_Order $order): void
{
    $id = isset($_COOKIE['insights_vid']) ? (string) wp_unslash($_COOKIE['insights_vid']) : '';
    // The tracker's ids are short base-36 strings; anything else is not ours to store.
    if ($id !== '' && preg_match('/^\w{1,64}$/', $id)) {
        $order->update_meta_data('insights_visitor_id', $id);
    }
}

// Classic checkout (shortcode): before the order is first saved.
add_action('woocommerce_checkout_create_order', function (WC_Order $order): void {
    insights_glue_visitor_id($order);
});

// Block checkout (Store API): the order is saved after this hook.
add_action('woocommerce_store_api_checkout_update_order_from_request', function (WC_Order $order): void {
    insights_glue_visitor_id($order);
});
