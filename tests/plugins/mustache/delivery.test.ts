import { mustache } from "../../../plugins/mustache/index.ts";
import { deliverySuite } from "../../support/delivery-suite.ts";

deliverySuite("mustache", mustache(), {
  url: "{{customer.id}}",
  campaignHeader: "{{params.campaign}}",
  body: [
    '"email": {{#json}}{{customer.email}}{{/json}},',
    '"name": {{#json}}{{customer.name}}{{/json}},',
    '"campaign": {{#json}}{{params.campaign}}{{/json}},',
    '"skus": [{{#event.data.items}}{{#json}}{{sku}}{{/json}}, {{/event.data.items}}null],',
    '"count": {{event.data.count}}',
  ],
  count: 2,
  expectedCampaign: "spring",
  expectedSkus: ["A-1", "B-2", null],
});
