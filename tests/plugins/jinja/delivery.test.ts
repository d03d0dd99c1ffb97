import { jinja } from "../../../plugins/jinja/index.ts";
import { deliverySuite } from "../../support/delivery-suite.ts";

deliverySuite("jinja", jinja(), {
  url: "{{ customer.id }}",
  campaignHeader: "{{ params.campaign | upper }}",
  body: [
    '"email": {{ customer.email | tojson }},',
    '"name": {{ customer.name | tojson }},',
    '"campaign": {{ params.campaign | tojson }},',
    '"skus": [{% for i in event.data.items %}{{ i.sku | tojson }}{% if not loop.last %}, {% endif %}{% endfor %}],',
    '"count": {{ event.data.count | int }}',
  ],
  count: "2.0",
  expectedCampaign: "SPRING",
});
