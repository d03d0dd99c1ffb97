import { velocity } from "../../../plugins/velocity/index.ts";
import { deliverySuite } from "../../support/delivery-suite.ts";

deliverySuite("velocity", velocity(), {
  url: "$customer.id",
  campaignHeader: "$params.campaign",
  body: [
    '"email": $esc.json($customer.email),',
    '"name": $esc.json($customer.name),',
    '"campaign": $esc.json($params.campaign),',
    '"skus": [#foreach($i in $event.data.items)$esc.json($i.sku)#if($foreach.hasNext), #end#end],',
    '"count": $!mathTool.toInteger($event.data.count)',
  ],
  count: "2.0",
  expectedCampaign: "spring",
});
